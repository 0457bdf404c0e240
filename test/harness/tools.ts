// Kafka's own Java tools (perf tools, Verifiable*, MirrorMaker 2, topic and group commands),
// run from the same Maven jars as the brokers. Every tool JVM is registered in the pid registry
// with this process as owner, so a crashed test run's leftovers are ended by the next run.
import type { Subprocess } from "bun";
import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { KafkaCluster, KafkaVersion } from "./cluster.ts";
import { javaArgv } from "./jars.ts";
import { isOldVersion } from "./zookeeper.ts";
import { killStale, registerPid, unregisterPid } from "./state.ts";

export interface ToolProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  pid: number;
  mainClass: string;
  /** stdout lines as they arrive; every iteration starts from the first line */
  lines: AsyncIterable<string>;
  /** stdout lines collected so far */
  stdout: string[];
  /** stderr collected so far (the tools log WARN and above there); last 64 KiB */
  stderr(): string;
  /** exit code, resolved once stdout and stderr are fully read */
  exited: Promise<number>;
  /** SIGTERM (or `signal`), SIGKILL after 10 s; resolves when the process is gone */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface RunOpts {
  jvm?: string[]; // default: small heap
  /** kill the tool after this long (then `exited` resolves with the signal's code) */
  timeoutMs?: number;
}

// Our own children: Bun's handle signals them safely (the pid cannot be reused before we reap it),
// even before exec() has put the marker into their command line.
const running = new Map<number, Subprocess>();
let staleChecked = false;

// Kill what is left if the test process exits without cleaning up (e.g. a failed assertion skipped afterAll).
process.on("exit", () => {
  for (const p of running.values()) p.kill("SIGKILL");
});

/** Start `mainClass` from Kafka `version`'s jars. */
export async function runTool(version: KafkaVersion, mainClass: string, args: string[], opts: RunOpts = {}): Promise<ToolProcess> {
  if (!staleChecked) {
    staleChecked = true;
    await killStale(() => false); // tools left by an earlier test process that died (owner gone)
  }
  const marker = `klink-tool-${randomUUID()}`;
  const argv = await javaArgv({ version, kind: "tool", mainClass, args, marker, jvm: opts.jvm ?? ["-Xms64m", "-Xmx512m"] });
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const pid = proc.pid;
  running.set(pid, proc);
  registerPid({ pid, marker, label: `tool ${mainClass.split(".").pop()}`, owner: process.pid });

  const stdout: string[] = [];
  let err = "";
  let wake: () => void = () => {};
  let changed = new Promise<void>((r) => (wake = r));
  let closed = false;
  const notify = () => {
    wake();
    changed = new Promise<void>((r) => (wake = r));
  };
  const readOut = (async () => {
    let buf = "";
    for await (const chunk of proc.stdout.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      const parts = buf.split("\n");
      buf = parts.pop()!;
      if (parts.length) {
        stdout.push(...parts);
        notify();
      }
    }
    if (buf) stdout.push(buf);
    closed = true;
    notify();
  })();
  const readErr = (async () => {
    for await (const chunk of proc.stderr.pipeThrough(new TextDecoderStream())) err = (err + chunk).slice(-65536);
  })();
  const timer = opts.timeoutMs ? setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs) : undefined;
  const exited = Promise.all([proc.exited, readOut, readErr]).then(([code]) => {
    clearTimeout(timer);
    running.delete(pid);
    unregisterPid(pid);
    return code;
  });

  return {
    proc,
    pid,
    mainClass,
    stdout,
    stderr: () => err,
    exited,
    lines: {
      async *[Symbol.asyncIterator]() {
        for (let i = 0; ; ) {
          while (i < stdout.length) yield stdout[i++]!;
          if (closed) return;
          await changed;
        }
      },
    },
    stop: (signal: NodeJS.Signals = "SIGTERM") => stopChild(proc, signal),
  };
}

async function stopChild(proc: Subprocess, signal: NodeJS.Signals, graceMs = 10_000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill(signal);
  const t = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  await proc.exited;
  clearTimeout(t);
}

/** Kill every tool this process started and has not seen exit. Call it in afterEach/afterAll. */
export async function stopAllTools(): Promise<void> {
  await Promise.all([...running.values()].map((p) => stopChild(p, "SIGKILL")));
}

/** Run to completion; throw with stderr if it fails. */
async function runToEnd(version: KafkaVersion, mainClass: string, args: string[], opts: RunOpts & { allowFail?: boolean } = {}) {
  const t = await runTool(version, mainClass, args, { timeoutMs: 120_000, ...opts });
  const code = await t.exited;
  if (code !== 0 && !opts.allowFail) {
    throw new Error(`${mainClass} ${args.join(" ")} exited with ${code}\n--- stdout\n${t.stdout.slice(-30).join("\n")}\n--- stderr\n${t.stderr().slice(-4000)}`);
  }
  return { code, stdout: t.stdout, stderr: t.stderr() };
}

// ---------- client configs ----------

export type Listener = "plaintext" | "sasl_ssl" | "ssl" | "oauthbearer";

/**
 * Java client properties for one of the cluster's listeners (SCRAM user `user`, the mTLS client
 * cert, or on the OAUTHBEARER listener an unsecured JWT for `user` made by Kafka's own login module).
 */
export function clientProps(
  c: KafkaCluster,
  listener: Listener,
  auth: { user?: string; password?: string; mechanism?: "SCRAM-SHA-512" | "SCRAM-SHA-256" } = {},
): Record<string, string> {
  if (listener === "plaintext") return { "bootstrap.servers": c.bootstrap };
  const s = c.security;
  if (!s) throw new Error(`cluster ${c.name} was started without security: true, it has no ${listener} listener`);
  const trust = {
    "ssl.truststore.type": "PKCS12",
    "ssl.truststore.location": s.truststoreP12,
    "ssl.truststore.password": s.truststorePassword,
  };
  if (listener === "ssl") {
    return {
      "bootstrap.servers": s.sslBootstrap,
      "security.protocol": "SSL",
      ...trust,
      "ssl.keystore.type": "PKCS12",
      "ssl.keystore.location": s.clientP12,
      "ssl.keystore.password": s.clientP12Password,
      "ssl.key.password": s.clientP12Password,
    };
  }
  const user = auth.user ?? "admin";
  if (listener === "oauthbearer") {
    return {
      "bootstrap.servers": s.oauthBootstrap,
      "security.protocol": "SASL_PLAINTEXT",
      "sasl.mechanism": "OAUTHBEARER",
      "sasl.jaas.config": `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="${user}";`,
    };
  }
  const password = auth.password ?? (s.users as Record<string, string>)[user];
  if (password === undefined) throw new Error(`no password for SCRAM user ${user}; known users: ${Object.keys(s.users).join(", ")}`);
  return {
    "bootstrap.servers": s.saslSslBootstrap,
    "security.protocol": "SASL_SSL",
    "sasl.mechanism": auth.mechanism ?? "SCRAM-SHA-512",
    "sasl.jaas.config": `org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${password}";`,
    ...trust,
  };
}

/** Write props to a .properties file under the cluster dir (for --producer.config etc.) and return its path. */
export function writeProps(c: KafkaCluster, props: Record<string, string>): string {
  const dir = join(c.dir, "client-configs");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${randomUUID()}.properties`);
  writeFileSync(path, Object.entries(props).map(([k, v]) => `${k}=${v}`).join("\n") + "\n");
  return path;
}

/**
 * Options shared by the client tools: `listener` picks the cluster's listener (default plaintext,
 * SCRAM user admin on sasl_ssl); `client` replaces those connection props entirely (other users,
 * wrong passwords, no certificate); `props` are added on top (acks, linger.ms, max.block.ms...).
 */
export interface ClientOpts {
  listener?: Listener;
  client?: Record<string, string>;
  props?: Record<string, string>;
  version?: KafkaVersion; // tool jars to use; default the cluster's version
}

/**
 * The tool jars for cluster `c`: ZooKeeper-mode sources (Kafka 2.8 and older) are driven by the
 * 3.9.2 tools, whose flags this file speaks and whose clients talk to brokers back to 0.10.
 */
export function toolsVersion(c: KafkaCluster, o: { version?: KafkaVersion } = {}): KafkaVersion {
  return o.version ?? (isOldVersion(c.version) ? "3.9.2" : c.version);
}

function connProps(c: KafkaCluster, o: ClientOpts, defaults: Record<string, string> = {}): Record<string, string> {
  return { ...(o.client ?? clientProps(c, o.listener ?? "plaintext")), ...defaults, ...o.props };
}

/** Kafka 4.x renamed the tools' config-file flag (the old one still works but warns). */
const configFlag = (v: KafkaVersion, old: string) => (v.startsWith("3.") ? old : "--command-config");

// ---------- topic and consumer-group commands ----------
// Same class names in 3.9 and 4.x (kafka.admin.TopicCommand is gone since 3.7).
// Admin commands are short-lived: C1-only JIT and serial GC start faster.
const ADMIN_JVM = ["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"];

/** kafka-topics.sh: args after --bootstrap-server, e.g. ["--create", "--topic", "t", "--partitions", "3"]. */
export function topicsTool(c: KafkaCluster, args: string[], opts: ClientOpts & { allowFail?: boolean } = {}) {
  return adminTool(c, "org.apache.kafka.tools.TopicCommand", args, opts);
}

/** kafka-consumer-groups.sh: args after --bootstrap-server, e.g. ["--describe", "--group", "g"]. */
export function consumerGroupsTool(c: KafkaCluster, args: string[], opts: ClientOpts & { allowFail?: boolean } = {}) {
  return adminTool(c, "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand", args, opts);
}

/** kafka-acls.sh: args after --bootstrap-server, e.g. ["--add", "--deny-principal", "User:alice", "--operation", "Read", "--topic", "t"]. */
export function aclTool(c: KafkaCluster, args: string[], opts: ClientOpts & { allowFail?: boolean } = {}) {
  const mainClass = toolsVersion(c, opts).startsWith("3.") ? "kafka.admin.AclCommand" : "org.apache.kafka.tools.AclCommand";
  return adminTool(c, mainClass, args, opts);
}

function adminTool(c: KafkaCluster, mainClass: string, args: string[], opts: ClientOpts & { allowFail?: boolean }) {
  const { "bootstrap.servers": bootstrap, ...rest } = connProps(c, opts);
  const conf = Object.keys(rest).length ? ["--command-config", writeProps(c, rest)] : [];
  return runToEnd(toolsVersion(c, opts), mainClass, ["--bootstrap-server", bootstrap!, ...conf, ...args], { jvm: ADMIN_JVM, allowFail: opts.allowFail });
}

export async function createTopic(c: KafkaCluster, topic: string, opts: { partitions?: number; replicationFactor?: number; configs?: Record<string, string> } = {}) {
  const args = ["--create", "--topic", topic, "--partitions", String(opts.partitions ?? 1)];
  if (opts.replicationFactor) args.push("--replication-factor", String(opts.replicationFactor));
  for (const [k, v] of Object.entries(opts.configs ?? {})) args.push("--config", `${k}=${v}`);
  await topicsTool(c, args);
}

// ---------- performance tools ----------

export interface ProducerPerfResult {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgLatencyMs: number;
  maxLatencyMs: number;
  stdout: string[];
}

/** ProducerPerformance to completion; numbers from its final summary line. */
export async function producerPerformance(
  c: KafkaCluster,
  o: ClientOpts & { topic: string; numRecords: number; recordSize?: number; throughput?: number; timeoutMs?: number; allowFail?: boolean },
): Promise<ProducerPerfResult & { code: number; stderr: string }> {
  const props = connProps(c, o, { acks: "all" });
  const args = ["--topic", o.topic, "--num-records", String(o.numRecords), "--record-size", String(o.recordSize ?? 100),
    "--throughput", String(o.throughput ?? -1), "--producer.config", writeProps(c, props)];
  const r = await runToEnd(toolsVersion(c, o), "org.apache.kafka.tools.ProducerPerformance", args, { timeoutMs: o.timeoutMs ?? 120_000, allowFail: o.allowFail });
  // e.g. "10000 records sent, 9487.6 records/sec (0.90 MB/sec), 271.93 ms avg latency, 541.00 ms max latency, ..."
  const re = /^(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency/;
  const m = r.stdout.map((l) => l.match(re)).filter((x) => x !== null).pop();
  if (!m) {
    if (o.allowFail) return { records: 0, recordsPerSec: 0, mbPerSec: 0, avgLatencyMs: 0, maxLatencyMs: 0, ...r };
    throw new Error(`ProducerPerformance printed no summary line\n${r.stdout.join("\n")}\n${r.stderr}`);
  }
  return { records: +m[1]!, recordsPerSec: +m[2]!, mbPerSec: +m[3]!, avgLatencyMs: +m[4]!, maxLatencyMs: +m[5]!, ...r };
}

export interface ConsumerPerfResult {
  records: number;
  recordsPerSec: number;
  mb: number;
  mbPerSec: number;
  /** every column of the summary, by its header name */
  columns: Record<string, string>;
  stdout: string[];
}

/** ConsumerPerformance until `numRecords` are read (or its `timeoutMs` of silence passes). */
export async function consumerPerformance(
  c: KafkaCluster,
  o: ClientOpts & { topic: string; numRecords: number; group?: string; timeoutMs?: number },
): Promise<ConsumerPerfResult> {
  const v = toolsVersion(c, o);
  const { "bootstrap.servers": bootstrap, ...rest } = connProps(c, o);
  const args = ["--bootstrap-server", bootstrap!, "--topic", o.topic, v.startsWith("3.") ? "--messages" : "--num-records", String(o.numRecords),
    "--timeout", String(o.timeoutMs ?? 30_000), "--group", o.group ?? `perf-${randomUUID()}`];
  if (Object.keys(rest).length) args.push(configFlag(v, "--consumer.config"), writeProps(c, rest));
  const r = await runToEnd(v, "org.apache.kafka.tools.ConsumerPerformance", args, { timeoutMs: (o.timeoutMs ?? 30_000) + 90_000 });
  // a header "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, ..." and one row
  const h = r.stdout.findIndex((l) => l.startsWith("start.time"));
  const row = r.stdout[h + 1];
  if (h < 0 || !row) throw new Error(`ConsumerPerformance printed no summary\n${r.stdout.join("\n")}\n${r.stderr}`);
  const names = r.stdout[h]!.split(",").map((s) => s.trim());
  const values = row.split(",").map((s) => s.trim());
  const columns = Object.fromEntries(names.map((n, i) => [n, values[i] ?? ""]));
  const num = (...keys: string[]) => Number(keys.map((k) => columns[k]).find((x) => x !== undefined) ?? NaN);
  return {
    records: num("data.consumed.in.nMsg", "data.consumed.in.nRecords"),
    recordsPerSec: num("nMsg.sec", "nRecords.sec"),
    mb: num("data.consumed.in.MB"),
    mbPerSec: num("MB.sec"),
    columns,
    stdout: r.stdout,
  };
}

// ---------- verifiable producer / consumer ----------

/** A JSON event line of VerifiableProducer/VerifiableConsumer, e.g. { name: "producer_send_success", key, value, partition, offset }. */
export type ToolEvent = { name: string; [k: string]: any };

export interface VerifiableTool extends ToolProcess {
  /** stdout parsed as JSON events as they arrive (non-JSON lines skipped) */
  events: AsyncIterable<ToolEvent>;
  /** events collected so far */
  collected(): ToolEvent[];
  /** first event matching `pred`, waiting for it up to timeoutMs */
  waitFor(pred: (e: ToolEvent) => boolean, timeoutMs?: number): Promise<ToolEvent>;
}

function verifiable(t: ToolProcess): VerifiableTool {
  const parse = (l: string): ToolEvent | undefined => {
    if (!l.startsWith("{")) return undefined;
    try {
      return JSON.parse(l);
    } catch {
      return undefined;
    }
  };
  const events: AsyncIterable<ToolEvent> = {
    async *[Symbol.asyncIterator]() {
      for await (const l of t.lines) {
        const e = parse(l);
        if (e) yield e;
      }
    },
  };
  return Object.assign(t, {
    events,
    collected: () => t.stdout.map(parse).filter((e): e is ToolEvent => e !== undefined),
    async waitFor(pred: (e: ToolEvent) => boolean, timeoutMs = 60_000) {
      let timer: Timer | undefined;
      const timeout = new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`${t.mainClass}: no matching event within ${timeoutMs} ms\n${t.stdout.slice(-20).join("\n")}\n${t.stderr().slice(-3000)}`)), timeoutMs);
      });
      const find = (async () => {
        for await (const e of events) if (pred(e)) return e;
        throw new Error(`${t.mainClass} exited before the expected event\n${t.stdout.slice(-20).join("\n")}\n${t.stderr().slice(-3000)}`);
      })();
      try {
        return await Promise.race([find, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  });
}

/** VerifiableProducer: one "producer_send_success"/"producer_send_error" per record, "tool_data" { sent, acked } at the end. */
export async function verifiableProducer(
  c: KafkaCluster,
  o: ClientOpts & { topic: string; maxMessages: number; throughput?: number; acks?: string; valuePrefix?: number; repeatingKeys?: number },
): Promise<VerifiableTool> {
  const v = toolsVersion(c, o);
  const { "bootstrap.servers": bootstrap, ...rest } = connProps(c, o);
  const args = ["--bootstrap-server", bootstrap!, "--topic", o.topic, "--max-messages", String(o.maxMessages), "--acks", o.acks ?? "-1"];
  if (o.throughput) args.push("--throughput", String(o.throughput));
  if (o.valuePrefix !== undefined) args.push("--value-prefix", String(o.valuePrefix));
  if (o.repeatingKeys !== undefined) args.push("--repeating-keys", String(o.repeatingKeys));
  if (Object.keys(rest).length) args.push(configFlag(v, "--producer.config"), writeProps(c, rest));
  return verifiable(await runTool(v, "org.apache.kafka.tools.VerifiableProducer", args));
}

/** VerifiableConsumer: "partitions_assigned", "records_consumed" { count, partitions }, "offsets_committed", "shutdown_complete". */
export async function verifiableConsumer(
  c: KafkaCluster,
  o: ClientOpts & { topic: string; groupId: string; maxMessages?: number; groupProtocol?: "classic" | "consumer"; resetPolicy?: "earliest" | "latest"; verbose?: boolean },
): Promise<VerifiableTool> {
  const v = toolsVersion(c, o);
  const { "bootstrap.servers": bootstrap, ...rest } = connProps(c, o);
  const args = ["--bootstrap-server", bootstrap!, "--topic", o.topic, "--group-id", o.groupId, "--reset-policy", o.resetPolicy ?? "earliest"];
  if (o.maxMessages !== undefined) args.push("--max-messages", String(o.maxMessages));
  if (o.groupProtocol) args.push("--group-protocol", o.groupProtocol);
  if (o.verbose) args.push("--verbose");
  if (Object.keys(rest).length) args.push(configFlag(v, "--consumer.config"), writeProps(c, rest));
  return verifiable(await runTool(v, "org.apache.kafka.tools.VerifiableConsumer", args));
}

/** Total records a VerifiableConsumer reported as consumed. */
export function consumedCount(events: ToolEvent[]): number {
  return events.filter((e) => e.name === "records_consumed").reduce((n, e) => n + (e.count as number), 0);
}

// ---------- MirrorMaker 2 ----------

/** MirrorMaker 2 in dedicated mode with `configPath` (mm2.properties). Long-running: stop() it. Logs WARN+ to stderr. */
export function mirrorMaker(version: KafkaVersion, configPath: string, opts: RunOpts = {}): Promise<ToolProcess> {
  return runTool(version, "org.apache.kafka.connect.mirror.MirrorMaker", [configPath], { jvm: ["-Xms256m", "-Xmx1g", "-XX:+UseG1GC"], ...opts });
}

// ---------- transactional copier, console consumer, offsets ----------

/**
 * TransactionalMessageCopier (Kafka's system-test tool): copies `inputTopic` to `outputTopic`
 * (input partition p to output partition p) in transactions of `transactionSize` records,
 * committing its consumer offsets in each; with `randomAborts` about a third of them abort and
 * are copied again. It stops once it has copied up to the input's end offsets as of its start.
 * Group mode: it subscribes to the whole input topic under `group`. Prints JSON status lines;
 * exits 0 when done.
 */
export function transactionalMessageCopier(
  c: KafkaCluster,
  o: { inputTopic: string; outputTopic: string; transactionalId: string; group: string; transactionSize?: number; randomAborts?: boolean; version?: KafkaVersion },
  opts: RunOpts = {},
): Promise<ToolProcess> {
  const args = ["--broker-list", c.bootstrap, "--input-topic", o.inputTopic, "--input-partition", "0", "--output-topic", o.outputTopic,
    "--transactional-id", o.transactionalId, "--consumer-group", o.group, "--group-mode", "--use-group-metadata",
    "--transaction-size", String(o.transactionSize ?? 200)];
  if (o.randomAborts) args.push("--enable-random-aborts");
  return runTool(toolsVersion(c, o), "org.apache.kafka.tools.TransactionalMessageCopier", args, opts);
}

/** A record as kafka-console-consumer printed it (key, value and header values as text, "null" for null). */
export interface ConsoleRecord {
  partition: number;
  offset: number;
  timestamp: number;
  /** `name:value,name:value`, or "NO_HEADERS" */
  headers: string;
  key: string;
  value: string;
}

/**
 * kafka-console-consumer from the beginning of every partition of `topic` (read_committed by
 * default), until it has read `maxMessages` records or nothing came for `idleMs`. Each record is
 * printed with its partition, offset, CreateTime, headers and key (tab-separated), and parsed.
 * Values and keys with tabs or line breaks cannot be parsed back: use it on text records.
 */
export async function consoleConsumer(
  c: KafkaCluster,
  o: ClientOpts & { topic: string; maxMessages?: number; idleMs?: number; isolation?: "read_committed" | "read_uncommitted" },
): Promise<{ records: ConsoleRecord[]; code: number; stderr: string }> {
  const v = toolsVersion(c, o);
  const { "bootstrap.servers": bootstrap, ...rest } = connProps(c, o);
  const args = ["--bootstrap-server", bootstrap!, "--topic", o.topic, "--from-beginning", "--isolation-level", o.isolation ?? "read_committed",
    "--timeout-ms", String(o.idleMs ?? 15_000), "--group", `console-${randomUUID()}`,
    ...["print.timestamp", "print.partition", "print.offset", "print.headers", "print.key", "print.value"].flatMap((p) => ["--property", `${p}=true`])];
  if (o.maxMessages !== undefined) args.push("--max-messages", String(o.maxMessages));
  if (Object.keys(rest).length) args.push(configFlag(v, "--consumer.config"), writeProps(c, rest));
  // exits 0 at --max-messages; at --timeout-ms it logs a TimeoutException and exits 0 as well
  const r = await runToEnd(v, "org.apache.kafka.tools.consumer.ConsoleConsumer", args, { timeoutMs: 300_000, allowFail: true });
  const records: ConsoleRecord[] = [];
  for (const line of r.stdout) {
    const m = /^(?:CreateTime|LogAppendTime):(-?\d+)\tPartition:(\d+)\tOffset:(\d+)\t([^\t]*)\t([^\t]*)\t(.*)$/.exec(line);
    if (m) records.push({ timestamp: +m[1]!, partition: +m[2]!, offset: +m[3]!, headers: m[4]!, key: m[5]!, value: m[6]! });
  }
  return { records, code: r.code, stderr: r.stderr };
}

/** GetOffsetShell: per partition of `topic`, the earliest (log start) or latest (log end) offset. */
export async function getOffsets(c: KafkaCluster, topic: string, time: "earliest" | "latest", o: ClientOpts = {}): Promise<Map<number, number>> {
  const { "bootstrap.servers": bootstrap, ...rest } = connProps(c, o);
  const args = ["--bootstrap-server", bootstrap!, "--topic", topic, "--time", time === "earliest" ? "-2" : "-1"];
  if (Object.keys(rest).length) args.push("--command-config", writeProps(c, rest));
  const r = await runToEnd(toolsVersion(c, o), "org.apache.kafka.tools.GetOffsetShell", args, { jvm: ADMIN_JVM });
  const out = new Map<number, number>();
  for (const line of r.stdout) {
    // "topic:partition:offset"; topic names cannot contain ':'
    const m = /^(.+):(\d+):(-?\d+)$/.exec(line.trim());
    if (m && m[1] === topic) out.set(+m[2]!, +m[3]!);
  }
  return out;
}
