/**
 * GET /metrics of a running `klink run` against the real clusters: promtool accepts the output,
 * and the values match what the test wrote (records, bytes, a partition stopped by a record too
 * large for the target, a fenced group and its handoff). Also checks the shipped alert rules.
 */
import { test, expect, afterAll } from "bun:test";
import { resolve } from "node:path";
import { tmpdir } from "node:os";
import pkg from "../../package.json" with { type: "json" };
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import { writeMigration, KlinkRun, klink, stopAllKlinks, freePort } from "../link/klink-process.ts";

afterAll(stopAllKlinks);

const ROOT = resolve(import.meta.dir, "../..");
const RULES = resolve(ROOT, "ops/prometheus");

function promtool(): string {
  const path = Bun.which("promtool");
  if (!path) throw new Error("promtool is not installed: run scripts/setup.sh (it installs Debian's prometheus package, which has promtool)");
  return path;
}

async function promtoolRun(args: string[], stdin?: string, cwd = ROOT): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn([promtool(), ...args], { cwd, stdin: stdin === undefined ? "ignore" : new Blob([stdin]), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out: out + err };
}

/** `name{labels}` exactly as written → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

test("promtool is installed (scripts/setup.sh) and accepts the shipped alert rules and their unit tests", async () => {
  const checked = await promtoolRun(["check", "rules", "klink-alerts.yml"], undefined, RULES);
  expect(checked.out).toContain("SUCCESS: 6 rules found");
  expect(checked.code).toBe(0);
  const tested = await promtoolRun(["test", "rules", "klink-alerts.test.yml"], undefined, RULES);
  expect(tested.out).toContain("SUCCESS");
  expect(tested.code).toBe(0);
});

test("every query of the Grafana dashboard is valid PromQL (promtool check rules on them as recording rules)", async () => {
  const dashboard = await Bun.file(resolve(ROOT, "ops/grafana/klink-dashboard.json")).json();
  const exprs: string[] = dashboard.panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => t.expr));
  expect(exprs.length).toBeGreaterThan(10);
  const rules = exprs.map((e, i) => `      - record: dashboard_query_${i}\n        expr: ${JSON.stringify(e.replaceAll(/\$\w+/g, ".*"))}`);
  const file = resolve(tmpdir(), `klink-dashboard-rules-${process.pid}.yml`);
  await Bun.write(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join("\n")}\n`);
  const checked = await promtoolRun(["check", "rules", file]);
  expect(checked.out).toContain(`SUCCESS: ${exprs.length} rules found`);
  expect(checked.code).toBe(0);
});

test("GET /metrics of a running link passes promtool check metrics and counts what was copied, stopped and handed off", async () => {
  promtool();
  const topic = uniqueName("metrics");
  const big = uniqueName("metrics-big");
  const group = uniqueName("metrics-group");
  const records = 3000;
  const valueBytes = 100;
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 3 }, { name: big, partitions: 1, configs: { "max.message.bytes": "200000" } }]));
  // The target's copy of `big` takes no record over 20000 bytes: its record at offset 5 stops it.
  await withAdmin(target(), (a) => a.createTopics([{ name: big, partitions: 1, configs: { "max.message.bytes": "20000" } }]));
  const p = new Producer(plain(source(), { "linger.ms": 5 }));
  for (let i = 0; i < records; i++) p.produce({ topic, partition: i % 3, value: Buffer.alloc(valueBytes, i % 256) });
  for (let i = 0; i < 10; i++) p.produce({ topic: big, partition: 0, value: Buffer.alloc(i === 5 ? 100_000 : 10, 1) });
  await p.flush();
  await p.close();
  // A group with committed offsets and no member: klink fences it on the target and waits for `klink handoff`.
  await withAdmin(source(), (a) => a.alterConsumerGroupOffsets(group, [0, 1, 2].map((partition) => ({ topic, partition, offset: 0 }))));

  const linkName = uniqueName("metrics");
  const port = freePort();
  const file = writeMigration({ topics: [topic, big], linkName, listen: `127.0.0.1:${port}`, extra: `groups:\n  names: [${group}]\n` });
  const run = new KlinkRun(file);
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    return { res, text: await res.text() };
  };
  const copied = (m: Map<string, number>) => [0, 1, 2].reduce((sum, i) => sum + (m.get(`klink_partition_copied_records_total{topic="${topic}",partition="${i}"}`) ?? 0), 0);
  let text = "";
  let m = new Map<string, number>();
  const until = async (what: string, done: () => boolean) => {
    for (let i = 0; i < 600; i++) {
      try {
        text = (await scrape()).text;
        m = samples(text);
        if (done()) return;
      } catch {
        // not listening yet
      }
      if (run.exited) break;
      await Bun.sleep(250);
    }
    throw new Error(`${what} not seen in /metrics:\n${text}\n${run.summary()}`);
  };
  await until("every record copied, the big partition stopped, the group fenced", () =>
    copied(m) === records && m.get(`klink_partition_stopped{topic="${big}",partition="0",reason="MSG_SIZE_TOO_LARGE"}`) === 1 &&
    m.get(`klink_group_state{group="${group}",state="fenced"}`) === 1 && (m.get(`klink_group_handoff_pause_seconds{group="${group}"}`) ?? 0) > 0);

  const { res } = await scrape();
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  const check = await promtoolRun(["check", "metrics"], text);
  expect(check.out).toBe("");
  expect(check.code).toBe(0);

  expect(m.get(`klink_info{link="${linkName}",version="${pkg.version}"}`)).toBe(1);
  for (const i of [0, 1, 2]) {
    const labels = `topic="${topic}",partition="${i}"`;
    expect(m.get(`klink_partition_copied_records_total{${labels}}`)).toBe(records / 3);
    expect(m.get(`klink_partition_copied_bytes_total{${labels}}`)).toBe((records / 3) * valueBytes);
    expect(m.get(`klink_partition_next_offset{${labels}}`)).toBe(records / 3);
    expect(m.get(`klink_partition_lag_records{${labels}}`)).toBe(0);
    expect(m.get(`klink_partition_lag_seconds{${labels}}`)).toBe(0);
    expect(m.get(`klink_partition_mode{${labels},mode="exact"}`)).toBe(1);
    expect(m.get(`klink_partition_stopped{${labels},reason=""}`)).toBe(0);
  }
  expect(m.get(`klink_partition_copied_records_total{topic="${big}",partition="0"}`)).toBe(5);
  expect(m.get(`klink_topic_state{topic="${topic}",state="mirroring"}`)).toBe(1);
  expect(m.get(`klink_group_members{group="${group}",cluster="source"}`)).toBe(0);
  expect(m.get(`klink_group_members{group="${group}",cluster="target"}`)).toBe(0);
  expect(m.get(`klink_producer_queue_messages{producer="target"}`)).toBeGreaterThanOrEqual(0);
  expect(m.get("klink_starting")).toBe(0);
  expect(m.get("klink_state_write_duration_seconds_count")).toBeGreaterThan(0);
  expect(m.get('klink_state_write_duration_seconds_bucket{le="+Inf"}')).toBe(m.get("klink_state_write_duration_seconds_count")!);
  expect(m.get("process_cpu_seconds_total")).toBeGreaterThan(0);
  expect(m.get("process_resident_memory_bytes")).toBeGreaterThan(10_000_000);

  // The operator's go: the group is handed off, and its pause is over.
  expect((await klink(["handoff", file, group])).code).toBe(0);
  await until("the group handed off", () => m.get(`klink_group_state{group="${group}",state="handed-off"}`) === 1);
  expect(m.get(`klink_group_handoff_pause_seconds{group="${group}"}`)).toBe(0);
  // It had no member on the source since klink started: no pause to report (test/status/group-status.test.ts measures one).
  expect(m.get(`klink_group_last_handoff_pause_seconds{group="${group}"}`)).toBeUndefined();
  expect((await promtoolRun(["check", "metrics"], text)).code).toBe(0);
  await run.stop();
}, 300_000);
