/**
 * GET /metrics: what the running klink knows, in Prometheus' text format (docs/operating.md, "Metrics and alerts").
 * Rendered on each scrape from the same progress as GET /status; the copy path only keeps the
 * counters it keeps anyway (plus one timing per state-store write).
 */
import { readdirSync } from "node:fs";
import type { PartitionProgress } from "../link/partition/progress.ts";
import type { GroupProgress } from "../link/handoff.ts";
import type { ClusterReach } from "../link/reachability.ts";
import type { Store, TopicLifecycle } from "../state/store.ts";
import { KLINK_VERSION } from "../version.ts";
import { copiedPartitions, workerRole, type Roster } from "../workers/worker-roster.ts";
import { CONTENT_TYPE, Exposition, Histogram, type Sample } from "./exposition.ts";

export interface MetricsInput {
  link: string;
  /** null while klink is starting. */
  running: {
    partitions: PartitionProgress[];
    groups: GroupProgress[];
    /** librdkafka's out-queue (rd_kafka_outq_len) of each producer. */
    producerQueues: Array<{ producer: string; messages: number }>;
    /** Whether each cluster answered klink's last ask (null before the link started). */
    clusters: Record<"source" | "target", ClusterReach> | null;
  } | null;
  /** link.standby: the link's worker group as its coordinator last described it (null otherwise). */
  workers?: Roster | null;
}

const MODES: PartitionProgress["mode"][] = ["exact", "translate"];
const TOPIC_STATES: TopicLifecycle[] = ["mirroring", "dual-write", "consumers-moving", "promoted-replica", "promoted", "rolled-back"];
const GROUP_STATES: GroupProgress["state"][] = ["watching", "fenced", "handed-off", "rolled-back", "drain-then-switch", "rolling-back"];

/** Durations of Store.write (the state: offset map, positions, lifecycle changes). */
const stateWrites = new Histogram([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

/** Times every write of `store` into the state-write histogram (the store object itself is kept). */
export function timeStateWrites(store: Store): Store {
  const write = store.write.bind(store);
  store.write = async (changes) => {
    const started = performance.now();
    try {
      return await write(changes);
    } finally {
      stateWrites.observe((performance.now() - started) / 1000);
    }
  };
  return store;
}

export function metricsResponse(input: MetricsInput): Response {
  return new Response(renderMetrics(input), { headers: { "content-type": CONTENT_TYPE } });
}

export function renderMetrics(input: MetricsInput, now = Date.now()): string {
  const m = new Exposition();
  m.add("klink_info", "gauge", "klink's version and link name (always 1).", [{ labels: { link: input.link, version: KLINK_VERSION }, value: 1 }]);
  m.add("klink_starting", "gauge", "1 while klink is starting (no partition is copied yet).", [{ value: input.running ? 0 : 1 }]);
  if (input.running) {
    partitionMetrics(m, input.running.partitions, now);
    groupMetrics(m, input.running.groups);
    m.add("klink_producer_queue_messages", "gauge", "Records and requests waiting in a producer's librdkafka queue (rd_kafka_outq_len): target is the copy producer, source the Router's.",
      input.running.producerQueues.map((q) => ({ labels: { producer: q.producer }, value: q.messages })));
    const clusters = Object.entries(input.running.clusters ?? {});
    m.add("klink_cluster_reachable", "gauge", "1 while the cluster answered klink's last ask (every 5 s), 0 when it did not.",
      clusters.map(([cluster, c]) => ({ labels: { cluster }, value: c.reachable ? 1 : 0 })));
  }
  if (input.workers) {
    const r = input.workers;
    m.add("klink_worker", "gauge", "Each klink in the link's worker group (link.standby), as the group's coordinator said last (1 per klink; role: runs the link, standby, rebalancing).",
      r.workers.map((w) => ({ labels: { host: w.host, pid: w.pid, status: w.status ?? "", role: workerRole(w, r.state) }, value: 1 })));
    m.add("klink_worker_partition", "gauge", "Each partition a klink of the worker group copies (link.spread), as the group's coordinator said last (1 per partition).",
      r.workers.flatMap((w) => copiedPartitions(w).map((p) => ({ labels: { host: w.host, pid: w.pid, topic: p.topic, partition: p.partition }, value: 1 }))));
  }
  m.add("klink_state_write_duration_seconds", "histogram", "Duration of each write to the state store (offset map, positions, lifecycle).", stateWrites.samples());
  processMetrics(m);
  return m.text();
}

function partitionMetrics(m: Exposition, partitions: PartitionProgress[], now: number): void {
  const each = (value: (p: PartitionProgress) => number): Sample[] => partitions.map((p) => ({ labels: { topic: p.topic, partition: p.partition }, value: value(p) }));
  const lag = (p: PartitionProgress) => Math.max(0, p.sourceEnd - p.next);
  m.add("klink_partition_copied_records_total", "counter", "Records copied source → target by this process.", each((p) => p.copiedRecords));
  m.add("klink_partition_copied_bytes_total", "counter", "Key and value bytes copied source → target by this process (on the fast lane: the record batches' bytes, compressed as on the source).", each((p) => p.copiedBytes));
  m.add("klink_partition_next_offset", "gauge", "Next source offset to copy.", each((p) => p.next));
  m.add("klink_partition_source_end_offset", "gauge", "The source partition's end (last stable offset) as last seen.", each((p) => p.sourceEnd));
  m.add("klink_partition_lag_records", "gauge", "Records on the source not copied yet (source end − next offset).", each(lag));
  m.add("klink_partition_lag_seconds", "gauge", "Age of a recently copied record (its CreateTime) while the partition lags; 0 when caught up.",
    each((p) => (lag(p) > 0 && p.copiedTimestamp > 0 ? Math.max(0, (now - p.copiedTimestamp) / 1000) : 0)));
  m.add("klink_partition_mode", "gauge", "Offset mode of the partition: 1 for its mode (exact: identical offsets; translate: offset map).",
    partitions.flatMap((p) => MODES.map((mode) => ({ labels: { topic: p.topic, partition: p.partition, mode }, value: p.mode === mode ? 1 : 0 }))));
  m.add("klink_partition_fast_lane", "gauge", "1 when the fast lane copies the partition as record batches (link.fastLane), 0 on the exact lane.", each((p) => (p.lane === "fast" ? 1 : 0)));
  m.add("klink_partition_stopped", "gauge", "1 when the partition stopped copying after an error; reason is the error's code (klink status has the message).",
    partitions.map((p) => ({ labels: { topic: p.topic, partition: p.partition, reason: p.error === null ? "" : stopReason(p.error) }, value: p.error === null ? 0 : 1 })));
  const topics = new Map(partitions.map((p) => [p.topic, p.topicState ?? "mirroring"]));
  m.add("klink_topic_state", "gauge", "Lifecycle state of the linked topic (1 for its state).",
    [...topics].flatMap(([topic, state]) => TOPIC_STATES.map((s) => ({ labels: { topic, state: s }, value: state === s ? 1 : 0 }))));
  const routed = partitions.filter((p) => p.routed);
  const eachRouted = (value: (r: NonNullable<PartitionProgress["routed"]>) => number): Sample[] =>
    routed.map((p) => ({ labels: { topic: p.topic, partition: p.partition }, value: value(p.routed!) }));
  m.add("klink_router_routed_records_total", "counter", "Records written straight to the target and routed back to the source (dual write) by this process.", eachRouted((r) => r.routedRecords));
  m.add("klink_router_routed_bytes_total", "counter", "Bytes routed target → source (dual write) by this process.", eachRouted((r) => r.routedBytes));
  m.add("klink_router_lag_records", "gauge", "Records on the target the Router has not routed to the source yet.", eachRouted((r) => Math.max(0, r.targetEnd - r.next)));
}

/**
 * A stop reason as a stable code: the librdkafka/Kafka error name a KafkaError message ends
 * with (e.g. MSG_SIZE_TOO_LARGE, _STATE), or "OTHER".
 */
export function stopReason(error: string): string {
  const names = [...error.matchAll(/\((_?[A-Z][A-Z0-9_]+)\)/g)];
  return names.at(-1)?.[1] ?? "OTHER";
}

function groupMetrics(m: Exposition, groups: GroupProgress[]): void {
  m.add("klink_group_state", "gauge", "Handoff state of the linked consumer group (1 for its state).",
    groups.flatMap((g) => GROUP_STATES.map((s) => ({ labels: { group: g.group, state: s }, value: g.state === s ? 1 : 0 }))));
  m.add("klink_group_members", "gauge", "Active members of the group on each cluster (klink's own fence member not counted).",
    groups.flatMap((g) => [{ labels: { group: g.group, cluster: "source" }, value: g.sourceMembers }, { labels: { group: g.group, cluster: "target" }, value: g.targetMembers }]));
  m.add("klink_group_handoff_pause_seconds", "gauge", "How long the group has had no member on the cluster it leaves while klink still holds it (nobody reads it); 0 when not paused.",
    groups.map((g) => ({ labels: { group: g.group }, value: (g.pausedMs ?? 0) / 1000 })));
  m.add("klink_group_last_handoff_pause_seconds", "gauge", "The pause of the group's last handoff or rollback in this process (last member gone → offsets moved).",
    groups.filter((g) => g.lastPauseMs != null).map((g) => ({ labels: { group: g.group }, value: g.lastPauseMs! / 1000 })));
}

const startTime = Date.now() / 1000 - process.uptime();

function processMetrics(m: Exposition): void {
  const cpu = process.cpuUsage();
  m.add("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", [{ value: (cpu.user + cpu.system) / 1e6 }]);
  m.add("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", [{ value: process.memoryUsage.rss() }]);
  m.add("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", [{ value: Math.round(startTime) }]);
  try {
    m.add("process_open_fds", "gauge", "Number of open file descriptors.", [{ value: readdirSync("/proc/self/fd").length }]);
  } catch {
    // not Linux: no /proc
  }
}
