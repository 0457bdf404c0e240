import { test, expect } from "bun:test";
import { Exposition, Histogram } from "../../src/status/exposition.ts";
import { renderMetrics, stopReason } from "../../src/status/metrics.ts";
import { partitionList } from "../../src/workers/worker-roster.ts";

test("label values with quotes, backslashes and newlines are escaped; HELP text too", () => {
  const text = new Exposition()
    .add("x_total", "counter", "a \\ help\nline", [{ labels: { topic: 'a"b\\c\nd', partition: 3 }, value: 7 }])
    .text();
  expect(text).toBe(['# HELP x_total a \\\\ help\\nline', "# TYPE x_total counter", 'x_total{topic="a\\"b\\\\c\\nd",partition="3"} 7', ""].join("\n"));
});

test("a family added twice has one HELP and one TYPE line, its samples together; an empty family is left out", () => {
  const text = new Exposition()
    .add("g", "gauge", "g", [{ labels: { a: "1" }, value: 1 }])
    .add("empty", "gauge", "nothing", [])
    .add("h", "gauge", "h", [{ value: Infinity }])
    .add("g", "gauge", "g", [{ labels: { a: "2" }, value: NaN }])
    .text();
  expect(text.split("\n")).toEqual(["# HELP g g", "# TYPE g gauge", 'g{a="1"} 1', 'g{a="2"} NaN', "# HELP h h", "# TYPE h gauge", "h +Inf", ""]);
  expect(() => new Exposition().add("g", "gauge", "", []).add("g", "counter", "", [])).toThrow("g is a gauge");
});

test("a histogram's buckets are cumulative and end with +Inf", () => {
  const h = new Histogram([0.01, 0.1]);
  for (const v of [0.005, 0.05, 0.05, 3]) h.observe(v);
  const text = new Exposition().add("d_seconds", "histogram", "d", h.samples()).text();
  expect(text).toContain('d_seconds_bucket{le="0.01"} 1\nd_seconds_bucket{le="0.1"} 3\nd_seconds_bucket{le="+Inf"} 4\nd_seconds_sum 3.105\nd_seconds_count 4\n');
});

test("klink's metrics: one TYPE line per family, lag, mode and stop reason per partition", () => {
  const base = { mode: "exact" as const, copiedBytes: 10, routed: undefined, topicState: "mirroring" as const };
  const text = renderMetrics({
    link: "l",
    running: {
      partitions: [
        { ...base, topic: 't"1', partition: 0, next: 5, sourceEnd: 5, copiedRecords: 5, copiedTimestamp: 1_000, error: null },
        { ...base, topic: 't"1', partition: 1, mode: "translate", next: 3, sourceEnd: 8, copiedRecords: 3, copiedTimestamp: 1_000,
          error: "record at offset 3 is larger than the target accepts: Broker: Message size too large (MSG_SIZE_TOO_LARGE)" },
      ],
      groups: [],
      producerQueues: [{ producer: "target", messages: 2 }],
      clusters: { source: { reachable: true, unreachableSince: null, error: null }, target: { reachable: false, unreachableSince: "2026-12-06T07:00:00.000Z", error: "describe cluster: timed out" } },
    },
  }, 11_000);
  const types = text.split("\n").filter((l) => l.startsWith("# TYPE ")).map((l) => l.split(" ")[2]);
  expect(new Set(types).size).toBe(types.length);
  expect(text).toContain('klink_partition_copied_records_total{topic="t\\"1",partition="1"} 3\n');
  expect(text).toContain('klink_partition_lag_records{topic="t\\"1",partition="1"} 5\n');
  expect(text).toContain('klink_partition_lag_seconds{topic="t\\"1",partition="0"} 0\n');
  expect(text).toContain('klink_partition_lag_seconds{topic="t\\"1",partition="1"} 10\n');
  expect(text).toContain('klink_partition_mode{topic="t\\"1",partition="1",mode="translate"} 1\n');
  expect(text).toContain('klink_partition_stopped{topic="t\\"1",partition="1",reason="MSG_SIZE_TOO_LARGE"} 1\n');
  expect(text).toContain('klink_partition_stopped{topic="t\\"1",partition="0",reason=""} 0\n');
  expect(text).toContain('klink_producer_queue_messages{producer="target"} 2\n');
  expect(text).toContain('klink_cluster_reachable{cluster="source"} 1\nklink_cluster_reachable{cluster="target"} 0\n');
  expect(text).toContain("klink_starting 0\n");
  expect(renderMetrics({ link: "l", running: null })).toContain("klink_starting 1\n");
});

test("link.spread: one klink_worker_partition line per partition a worker copies; klink status lists them per topic, in ranges", () => {
  const roster = {
    group: "klink-l-workers", state: "Stable", at: "2026-12-07T07:00:00.000Z",
    workers: [{ host: "a", pid: 1, status: null, units: ["link/0", "t/0", "t/1", "t/2", "t/5", "u/3"] }, { host: "b", pid: 2, status: null, units: ["t/3"] }],
  };
  const text = renderMetrics({ link: "l", running: null, workers: roster });
  expect(text).toContain('klink_worker_partition{host="a",pid="1",topic="t",partition="0"} 1\n');
  expect(text).toContain('klink_worker_partition{host="b",pid="2",topic="t",partition="3"} 1\n');
  expect(text.match(/^klink_worker_partition\{/gm)).toHaveLength(6);
  expect(partitionList(roster.workers[0]!)).toBe("t[0-2,5] u[3]");
  expect(partitionList(roster.workers[1]!)).toBe("t[3]");
  expect(partitionList({ host: "c", pid: 3, status: null, units: ["link/0"] })).toBe("");
});

test("link.standby: one klink_worker line per klink of the worker group, with its role", () => {
  const text = renderMetrics({
    link: "l",
    running: null,
    workers: {
      group: "klink-l-workers", state: "Stable", at: "2026-12-07T07:00:00.000Z",
      workers: [{ host: "a", pid: 1, status: "http://a:9", units: ["link/0"] }, { host: "b", pid: 2, status: null, units: [] }],
    },
  });
  expect(text).toContain('klink_worker{host="a",pid="1",status="http://a:9",role="runs the link"} 1\nklink_worker{host="b",pid="2",status="",role="standby"} 1\n');
  expect(renderMetrics({ link: "l", running: null })).not.toContain("klink_worker");
});

test("stop reasons are the last error code of the message", () => {
  expect(stopReason("routing target → source: x (UNKNOWN_TOPIC_OR_PART): y (_STATE)")).toBe("_STATE");
  expect(stopReason("something odd")).toBe("OTHER");
});

test("the alert rules and the dashboard use only metrics klink writes", async () => {
  const routed = { next: 1, targetEnd: 2, routedRecords: 1, routedBytes: 1 };
  const group = { group: "g", state: "handed-off" as const, sourceMembers: 0, targetMembers: 1, sourceClients: [], targetClients: [], detail: "", committed: null, pausedMs: null, lastPauseMs: 5 };
  const text = renderMetrics({
    link: "l",
    running: {
      partitions: [{ topic: "t", partition: 0, mode: "exact", next: 1, sourceEnd: 1, copiedRecords: 1, copiedBytes: 1, copiedTimestamp: 0, error: null, routed }],
      groups: [group],
      producerQueues: [{ producer: "target", messages: 0 }],
      clusters: { source: { reachable: true, unreachableSince: null, error: null }, target: { reachable: true, unreachableSince: null, error: null } },
    },
  });
  const written = new Set(text.split("\n").filter((l) => l.startsWith("# TYPE ")).flatMap((l) => {
    const [, , name, type] = l.split(" ");
    return type === "histogram" ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name!];
  }));
  for (const file of ["ops/prometheus/klink-alerts.yml", "ops/grafana/klink-dashboard.json"]) {
    const used = new Set((await Bun.file(new URL(`../../${file}`, import.meta.url)).text()).match(/\b(klink|process)_[a-z_]+/g));
    expect({ file, unknown: [...used].filter((n) => !written.has(n)) }).toEqual({ file, unknown: [] });
  }
});
