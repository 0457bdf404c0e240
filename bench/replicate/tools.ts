/**
 * The replicators, each started as its own process so that /proc shows its own CPU and
 * memory: klink (dist/klink run, with and without link.fastLane), MirrorMaker 2 (dedicated mode, Kafka 4.3.1 jars) and the raw
 * pipe (bench/replicate/pipe.ts). Every child is tracked here and killed if the benchmark exits
 * without stopping it.
 */
import type { Subprocess } from "bun";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { mirrorMaker, type ToolProcess } from "../../test/harness/tools.ts";
import { stateDir } from "../../test/harness/state.ts";
import { deleteTopics, type Clusters } from "./clusters.ts";
import type { Compression } from "./options.ts";
import type { ProcSample } from "./proc.ts";

export type Tool = "klink" | "klink-fast" | "mm2" | "pipe" | "lane";
export const TOOLS: Tool[] = ["klink", "klink-fast", "mm2", "pipe", "lane"];
export const TOOL_LABEL: Record<Tool, string> = { klink: "klink", "klink-fast": "klink, link.fastLane", mm2: "MirrorMaker 2", pipe: "raw pipe", lane: "fast lane copy step alone" };

export const KLINK = resolve(import.meta.dir, "../../dist/klink");
const PIPE = resolve(import.meta.dir, "pipe.ts");
const LANE = resolve(import.meta.dir, "lane.ts");
export const MM2_VERSION = "4.3.1" as const;
/** 1 GiB of heap ran out at 2 GB of 10 KiB records (4 tasks, each with 256 MiB of producer buffer and polls of up to 10,000 records). */
export const MM2_JVM = ["-Xms256m", "-Xmx3g", "-XX:+UseG1GC"];

export interface Replicator {
  tool: Tool;
  pid: number;
  /** performance.now() just before the process was spawned */
  startedAt: number;
  /** the exit code, once the process is gone */
  exited: Promise<number>;
  running(): boolean;
  /** SIGTERM (a clean stop), SIGKILL if still running after `graceMs` */
  stop(graceMs?: number): Promise<void>;
  /** the end of its stderr, for error messages */
  logTail(): string;
  /** after exit: CPU and peak RSS of the whole life of the process (wait4's rusage) */
  finalUsage(): ProcSample | null;
}

export interface ReplicateJob {
  topics: string[];
  partitions: number;
  compression: Compression;
  /** klink: exit once caught up (--until-caught-up); the others always run until stopped */
  untilCaughtUp: boolean;
  mm2Tasks: number;
  /**
   * Extra librdkafka settings for klink's and the pipe's source consumer (what-if runs, e.g.
   * fetch.queue.backoff.ms); empty in the benchmark proper, which measures klink as shipped.
   */
  sourceLibrdkafka?: Record<string, string | number>;
  /** Each source partition's log start offset: where the fast lane starts (it has no start alignment). */
  sourceLow?: number[];
}

const children = new Set<Subprocess>();
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

function usage(p: Subprocess): ProcSample | null {
  const u = p.resourceUsage();
  return u ? { cpuSeconds: Number(u.cpuTime.total) / 1e6, peakRssBytes: u.maxRSS } : null;
}

function spawnTracked(tool: Tool, argv: string[], cleanup: () => void = () => {}): Replicator {
  const startedAt = performance.now();
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  children.add(proc);
  let tail = "";
  const keep = async (s: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of s) tail = (tail + decoder.decode(chunk, { stream: true })).slice(-16_384);
  };
  const exited = Promise.all([proc.exited, keep(proc.stdout), keep(proc.stderr)]).then(([code]) => {
    children.delete(proc);
    cleanup();
    return code;
  });
  return {
    tool,
    pid: proc.pid,
    startedAt,
    exited,
    running: () => proc.exitCode === null && proc.signalCode === null,
    async stop(graceMs = 30_000) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        const t = setTimeout(() => proc.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(t);
      }
      await exited;
    },
    logTail: () => tail,
    finalUsage: () => usage(proc),
  };
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen({ port: 0, host: "127.0.0.1" }, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

function runDir(tool: Tool): string {
  const base = join(stateDir, "runs");
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, `${tool}-`));
}

/** klink's migration.yaml for the job (exact offsets, the Fetcher's default in-flight cap; `fastLane`: link.fastLane on). */
export function klinkYaml(c: Clusters, job: ReplicateJob, port: number, fastLane = false): string {
  const compression = job.compression === "none" ? "" : `\n    librdkafka: { compression.type: ${job.compression} }`;
  const extra = Object.entries(job.sourceLibrdkafka ?? {});
  const sourceExtra = extra.length ? `\n    librdkafka: { ${extra.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(", ")} }` : "";
  return `clusters:
  source:
    bootstrap: "${c.source.bootstrap}"${sourceExtra}
  target:
    bootstrap: "${c.target.bootstrap}"${compression}
link:
  name: bench
  topics: { names: [${job.topics.join(", ")}] }
  start: earliest
  offsets: exact${fastLane ? "\n  fastLane: true" : ""}
status:
  listen: 127.0.0.1:${port}
limits:
  inFlightBytes: 256MiB
`;
}

export async function startKlink(c: Clusters, job: ReplicateJob, fastLane = false): Promise<Replicator> {
  const tool: Tool = fastLane ? "klink-fast" : "klink";
  const dir = runDir(tool);
  const file = join(dir, "migration.yaml");
  writeFileSync(file, klinkYaml(c, job, await freePort(), fastLane));
  // KLINK_BENCH_KLINK_CMD (a JSON argv, e.g. ["bun","src/cli.ts"]): another klink build, for A/B experiments
  const klink: string[] = process.env.KLINK_BENCH_KLINK_CMD ? JSON.parse(process.env.KLINK_BENCH_KLINK_CMD) : [KLINK];
  const argv = [...klink, "run", file, ...(job.untilCaughtUp ? ["--until-caught-up"] : [])];
  return spawnTracked(tool, argv, () => rmSync(dir, { recursive: true, force: true }));
}

export function startPipe(c: Clusters, job: ReplicateJob): Replicator {
  if (job.topics.length !== 1) throw new Error("the pipe copies one topic");
  const options = { source: c.source.bootstrap, target: c.target.bootstrap, topic: job.topics[0], partitions: job.partitions, compression: job.compression, consumer: job.sourceLibrdkafka ?? {} };
  return spawnTracked("pipe", [process.execPath, PIPE, JSON.stringify(options)]);
}

export function startLane(c: Clusters, job: ReplicateJob): Replicator {
  if (job.topics.length !== 1) throw new Error("the fast lane copies one topic");
  const options = { source: c.source.bootstrap, target: c.target.bootstrap, topic: job.topics[0], partitions: job.partitions, sourceLow: job.sourceLow ?? [] };
  return spawnTracked("lane", [process.execPath, LANE, JSON.stringify(options)]);
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * MirrorMaker 2's properties for the job, tuned as its documentation and KIP-382 suggest for
 * throughput, with the same producer settings klink's Fetcher uses where both have them.
 * Cluster aliases are literally `source` and `target`.
 */
export function mm2Properties(c: Clusters, job: ReplicateJob, workerGroup = `mm2-bench-${randomUUID().slice(0, 8)}`): string {
  const p: Array<[string, string | number | boolean] | string> = [
    "# clusters and flow: one way, topic names kept (IdentityReplicationPolicy)",
    ["clusters", "source, target"],
    ["source.bootstrap.servers", c.source.bootstrap],
    ["target.bootstrap.servers", c.target.bootstrap],
    ["source->target.enabled", true],
    ["target->source.enabled", false],
    ["source->target.topics", job.topics.map(escapeRegex).join("|")],
    ["source->target.groups", "bench-.*"],
    ["replication.policy.class", "org.apache.kafka.connect.mirror.IdentityReplicationPolicy"],
    ["tasks.max", job.mm2Tasks],
    "# a fresh Connect worker group per run: a member the previous run left behind would hold the start until it times out",
    ["target.group.id", workerGroup],
    "# target topics are created by the benchmark, identically for every tool",
    ["sync.topic.configs.enabled", false],
    ["sync.topic.acls.enabled", false],
    ["emit.heartbeats.enabled", false],
    "# consumer-group offset translation (checkpoints), refreshed every 5 s instead of every 60-600 s",
    ["emit.checkpoints.enabled", true],
    ["emit.checkpoints.interval.seconds", 5],
    ["sync.group.offsets.enabled", true],
    ["sync.group.offsets.interval.seconds", 5],
    ["refresh.topics.interval.seconds", 5],
    ["refresh.groups.interval.seconds", 5],
    "# single-node clusters",
    ["replication.factor", 1],
    ["checkpoints.topic.replication.factor", 1],
    ["heartbeats.topic.replication.factor", 1],
    ["offset-syncs.topic.replication.factor", 1],
    ["offset.storage.replication.factor", 1],
    ["status.storage.replication.factor", 1],
    ["config.storage.replication.factor", 1],
    "# producer writing to the target: idempotent, 5 in flight (Connect's default is 1), batches as klink's",
    ["target.producer.enable.idempotence", true],
    ["target.producer.acks", "all"],
    ["target.producer.max.in.flight.requests.per.connection", 5],
    ["target.producer.linger.ms", 5],
    ["target.producer.batch.size", 1_048_576],
    ["target.producer.max.request.size", 10_485_760],
    ["target.producer.buffer.memory", 268_435_456],
    ["target.producer.compression.type", job.compression],
    "# consumer reading the source: bigger fetches and polls (fetch.min.bytes stays 1, as klink's: raising it only adds latency)",
    ["source.consumer.fetch.max.bytes", 52_428_800],
    ["source.consumer.max.partition.fetch.bytes", 4_194_304],
    ["source.consumer.max.poll.records", 10_000],
  ];
  return p.map((e) => (typeof e === "string" ? e : `${e[0]} = ${e[1]}`)).join("\n") + "\n";
}

export async function startMirrorMaker(c: Clusters, job: ReplicateJob): Promise<Replicator> {
  // a fresh start: no stored source offsets, offset syncs or checkpoints from an earlier run
  await deleteTopics(c.source, isMirrorMakerTopic);
  await deleteTopics(c.target, isMirrorMakerTopic);
  const dir = runDir("mm2");
  const file = join(dir, "mm2.properties");
  writeFileSync(file, mm2Properties(c, job));
  const startedAt = performance.now();
  const t: ToolProcess = await mirrorMaker(MM2_VERSION, file, { jvm: MM2_JVM });
  children.add(t.proc);
  const exited = t.exited.then((code) => {
    children.delete(t.proc);
    rmSync(dir, { recursive: true, force: true });
    return code;
  });
  return {
    tool: "mm2",
    pid: t.pid,
    startedAt,
    exited,
    running: () => t.proc.exitCode === null && t.proc.signalCode === null,
    async stop(graceMs = 30_000) {
      if (t.proc.exitCode === null && t.proc.signalCode === null) {
        t.proc.kill("SIGTERM");
        const timer = setTimeout(() => t.proc.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      await exited;
    },
    logTail: () => (t.stdout.slice(-20).join("\n") + "\n" + t.stderr()).slice(-16_384),
    finalUsage: () => usage(t.proc),
  };
}

export function startReplicator(tool: Tool, c: Clusters, job: ReplicateJob): Promise<Replicator> {
  if (tool === "klink") return startKlink(c, job);
  if (tool === "klink-fast") return startKlink(c, job, true);
  if (tool === "mm2") return startMirrorMaker(c, job);
  if (tool === "lane") return Promise.resolve(startLane(c, job));
  return Promise.resolve(startPipe(c, job));
}

/** MirrorMaker 2's own topics (configs, offsets, status, offset syncs, checkpoints): a fresh start needs them gone. */
export const isMirrorMakerTopic = (name: string) => /^mm2-|\.internal$|^heartbeats$/.test(name);
