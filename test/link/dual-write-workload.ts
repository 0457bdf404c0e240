/**
 * A dual-write workload for the Router tests, and the checker that judges its outcome.
 *
 * Producers of two kinds write keyed records to one topic while they are moved, one at a time,
 * between the source and the target cluster (a rolling producer move):
 * - librdkafka producers (this repo's binding: idempotent, acks=all). Each record's value names
 *   its producer session and sequence number; key, headers and an explicit CreateTime are derived
 *   from them, so the checker can rebuild every byte and test fidelity (I5). A producer keeps its
 *   sequence numbering across moves.
 * - Kafka's VerifiableProducer (keyed with --repeating-keys, idempotent through its config file).
 *   Its values are `<value-prefix>.<counter>`, the counter restarting at 0 in every instance, so
 *   each instance gets its own prefix and is its own session.
 *
 * A *session* is one producer instance on one cluster: the unit in which Kafka promises order
 * (I3). Records of one producer's successive sessions may legitimately interleave on a cluster
 * (the Router and the Fetcher lag), so order is checked per session and partition.
 *
 * The checker reads the whole topic on both clusters with two independent readers (a librdkafka
 * consumer, read_committed, assigned from the beginning up to the end offsets; and Kafka's
 * VerifiableConsumer with --verbose) and reports, with examples, every breach of:
 * I1 every acknowledged record is on both clusters; I2 at most once per cluster; I3 per session
 * and partition the sequence increases on both clusters; I5 key, value, headers, CreateTime and
 * partition as produced, on both clusters. A record sent without acknowledgement may be missing,
 * but if it is on one cluster it must be on both. See docs/invariants.md.
 */
import { Admin, Consumer, ErrorCode, KafkaError, Offset, Producer, type DeliveryReport, type Header } from "../../src/rdkafka/index.ts";
import type { KafkaCluster } from "../harness/cluster.ts";
import { clientProps, runTool, toolsVersion, verifiableConsumer, writeProps, type ToolEvent, type ToolProcess, type VerifiableTool } from "../harness/tools.ts";
import { plain, uniqueName } from "../helpers.ts";

export type Side = "source" | "target";
export type ProducerKind = "librdkafka" | "verifiable";
export type Clusters = Record<Side, KafkaCluster>;

/** One producer instance on one cluster. */
export interface ProducerSession {
  /** `L0.2`: librdkafka producer L0's second session; `V1.3`: VerifiableProducer V1's third. */
  id: string;
  producer: string;
  kind: ProducerKind;
  cluster: Side;
  startedAt: number;
  stoppedAt?: number;
  /** VerifiableProducer's --value-prefix (its records' values are `<prefix>.<counter>`) */
  valuePrefix?: number;
  /** records handed to the client, acknowledged, failed (error report or send error) */
  sent: number;
  acked: number;
  failed: number;
}

/** A record a producer sent: acknowledged (with the partition and offset the broker gave it) or not. */
export interface SentRecord {
  /** `<session>:<seq>`, e.g. `L0.2:1534` or `V1.3:17` */
  id: string;
  session: string;
  seq: number;
  cluster: Side;
  acked: boolean;
  partition?: number;
  offset?: number;
  /** why it was not acknowledged */
  error?: string;
}

const RECORD_ID = /^(L\d+\.\d+)\.(\d+);/; // librdkafka producers' values
const VERIFIABLE_VALUE = /^(\d+)\.(\d+)$/; // VerifiableProducer's values
const LIBRDKAFKA_KEYS = 16;
const VERIFIABLE_KEYS = 32;

/** Everything the producers sent, by record id. */
export class History {
  readonly sessions = new Map<string, ProducerSession>();
  readonly records = new Map<string, SentRecord>();
  private readonly prefixes = new Map<number, string>();
  /** CreateTime of a librdkafka producer's record `seq` is `timestampBase + seq` (an hour in the past: not "now"). */
  readonly timestampBase = Date.now() - 3_600_000;

  addSession(s: ProducerSession): void {
    this.sessions.set(s.id, s);
    if (s.valuePrefix !== undefined) this.prefixes.set(s.valuePrefix, s.id);
  }

  /** The session and sequence number a record's value names, or null for a value no producer of this workload writes. */
  identify(value: string | null): { session: string; seq: number } | null {
    if (value === null) return null;
    const l = RECORD_ID.exec(value);
    if (l) return this.sessions.has(l[1]!) ? { session: l[1]!, seq: Number(l[2]) } : null;
    const v = VERIFIABLE_VALUE.exec(value);
    const session = v && this.prefixes.get(Number(v[1]));
    return session ? { session, seq: Number(v![2]) } : null;
  }

  /** Records an outcome; an acknowledgement wins over an earlier failure of the same record. */
  record(r: SentRecord): void {
    const had = this.records.get(r.id);
    if (had?.acked) return;
    this.records.set(r.id, r);
  }

  acked(): SentRecord[] {
    return [...this.records.values()].filter((r) => r.acked);
  }
}

/** What a librdkafka producer session writes as record `seq`: every byte follows from (session, seq). */
export function librdkafkaRecord(history: History, session: string, seq: number): { key: string; value: string; headers: Array<[string, Buffer | null]>; timestamp: number } {
  const producer = session.split(".")[0]!;
  const seqBytes = Buffer.alloc(8);
  seqBytes.writeBigUInt64BE(BigInt(seq));
  let pad = "";
  for (let i = 0, x = seq * 2654435761 + producer.length; i < 16 + (seq % 7) * 37; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    pad += String.fromCharCode(97 + (x % 26));
  }
  return {
    key: `${producer}-k${seq % LIBRDKAFKA_KEYS}`,
    value: `${session}.${seq};${pad}`,
    // a null value, an empty value, a binary value and a repeated name: what a byte-exact copy must keep
    headers: [["producer", Buffer.from(producer)], ["seq", seqBytes], ["trace", null], ["empty", Buffer.alloc(0)], ["dup", Buffer.from("1")], ["dup", Buffer.from("2")]],
    timestamp: history.timestampBase + seq,
  };
}

// ---------------------------------------------------------------------------------------------
// Producers

interface ProducerClient {
  readonly name: string;
  readonly kind: ProducerKind;
  cluster: Side | null;
  /** Starts a new session on `cluster`; resolves once its first record is acknowledged. */
  start(cluster: Side): Promise<void>;
  /** Stops the session cleanly: every record sent is acknowledged or failed before this resolves. */
  stop(): Promise<void>;
  /** For clean-up after a failure: ends the session at once. */
  kill(): Promise<void>;
}

interface ClientContext {
  topic: string;
  clusters: Clusters;
  history: History;
  rate: number;
  log: (line: string) => void;
  nextPrefix: () => number;
}

/** A producer built on this repo's librdkafka binding; its sequence numbers continue across sessions. */
class LibrdkafkaClient implements ProducerClient {
  readonly kind = "librdkafka";
  cluster: Side | null = null;
  private sessionNo = 0;
  private nextSeq = 0;
  private producer: Producer | null = null;
  private session: ProducerSession | null = null;
  private loop: Promise<void> | null = null;
  private running = false;

  constructor(readonly name: string, private readonly ctx: ClientContext) {}

  async start(cluster: Side): Promise<void> {
    const { history, topic } = this.ctx;
    const session: ProducerSession = { id: `${this.name}.${++this.sessionNo}`, producer: this.name, kind: "librdkafka", cluster, startedAt: Date.now(), sent: 0, acked: 0, failed: 0 };
    history.addSession(session);
    const pending = new Map<number, number>(); // delivery id → seq
    let firstAck: () => void = () => {};
    const acked = new Promise<void>((r) => (firstAck = r));
    const onDelivery = (r: DeliveryReport) => {
      const seq = pending.get(r.id);
      if (seq === undefined) return;
      pending.delete(r.id);
      const id = `${session.id}:${seq}`;
      if (r.error) {
        session.failed++;
        history.record({ id, session: session.id, seq, cluster, acked: false, error: r.error.message });
      } else if (r.offset < 0) {
        // librdkafka reports a batch delivered, without an offset, when the broker answers its
        // retry with DUPLICATE_SEQUENCE_NUMBER; its own comment (rdkafka_request.c) says that can
        // happen to a batch never written. Not a broker's acknowledgement: counted as failed.
        session.failed++;
        history.record({ id, session: session.id, seq, cluster, acked: false, error: "delivered without an offset (DUPLICATE_SEQUENCE_NUMBER)" });
      } else {
        session.acked++;
        history.record({ id, session: session.id, seq, cluster, acked: true, partition: r.partition, offset: r.offset });
        firstAck();
      }
    };
    const producer = new Producer(
      plain(this.ctx.clusters[cluster], { acks: "all", "enable.idempotence": true, "linger.ms": 5, partitioner: "murmur2_random" }),
      { onDelivery },
    );
    this.producer = producer;
    this.session = session;
    this.cluster = cluster;
    this.running = true;
    this.loop = (async () => {
      const t0 = performance.now();
      let due = 0;
      while (this.running) {
        due = Math.max(due, Math.floor(((performance.now() - t0) / 1000) * this.ctx.rate));
        while (session.sent < due && this.running) {
          const seq = this.nextSeq;
          const r = librdkafkaRecord(history, session.id, seq);
          let deliveryId: number;
          try {
            deliveryId = producer.produce({ topic, ...r });
          } catch (err) {
            if (err instanceof KafkaError && err.code === ErrorCode.QUEUE_FULL) break; // try again next tick
            throw err;
          }
          pending.set(deliveryId, seq);
          this.nextSeq++;
          session.sent++;
        }
        await Bun.sleep(10);
      }
    })();
    let timer: Timer | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${session.id} (librdkafka on the ${cluster}) acknowledged nothing within 60 s`)), 60_000);
    });
    try {
      await Promise.race([acked, timeout, this.loop.then(() => Promise.reject(new Error(`${session.id} stopped before its first acknowledgement`)))]);
    } finally {
      clearTimeout(timer);
    }
    this.ctx.log(`${session.id} producing to the ${cluster} from seq ${this.nextSeq - session.sent}`);
  }

  async stop(): Promise<void> {
    const { producer, session } = this;
    if (!producer || !session) return;
    this.running = false;
    await this.loop;
    // flush, then close: every record gets its delivery report (close purges only what flush could not deliver)
    await producer.flush(120_000).catch((err) => this.ctx.log(`${session.id}: ${err.message}`));
    await producer.close(5_000);
    session.stoppedAt = Date.now();
    this.producer = null;
    this.session = null;
    this.cluster = null;
    this.ctx.log(`${session.id} stopped on the ${session.cluster}: ${session.acked} acknowledged, ${session.failed} failed`);
  }

  async kill(): Promise<void> {
    this.running = false;
    await this.loop?.catch(() => {});
    await this.producer?.close(1_000).catch(() => {});
    this.producer = null;
  }
}

/**
 * Kafka's VerifiableProducer, keyed (--repeating-keys). Its "producer_send_success" events are
 * the acknowledgements; stopped with SIGTERM, its shutdown hook closes the producer (which
 * flushes) and prints the last acknowledgements and a "tool_data" summary before it exits.
 */
class VerifiableClient implements ProducerClient {
  readonly kind = "verifiable";
  cluster: Side | null = null;
  private sessionNo = 0;
  private tool: ToolProcess | null = null;
  private session: ProducerSession | null = null;

  constructor(readonly name: string, private readonly ctx: ClientContext) {}

  async start(cluster: Side): Promise<void> {
    const c = this.ctx.clusters[cluster];
    const valuePrefix = this.ctx.nextPrefix();
    const session: ProducerSession = { id: `${this.name}.${++this.sessionNo}`, producer: this.name, kind: "verifiable", cluster, startedAt: Date.now(), valuePrefix, sent: 0, acked: 0, failed: 0 };
    this.ctx.history.addSession(session);
    // The tool sets retries=0 (a failed batch is dropped, never retried); an idempotent producer with
    // retries is what applications run, and it keeps the session's order through a leader change.
    const { "bootstrap.servers": bootstrap, ...rest } = clientProps(c, "plaintext");
    const config = writeProps(c, { ...rest, "enable.idempotence": "true", retries: "2147483647", "max.in.flight.requests.per.connection": "5", "linger.ms": "5" });
    const jars = toolsVersion(c);
    const tool = await runTool(jars, "org.apache.kafka.tools.VerifiableProducer", [
      "--bootstrap-server", bootstrap!, "--topic", this.ctx.topic, "--max-messages", "-1", "--throughput", String(this.ctx.rate),
      "--acks", "-1", "--value-prefix", String(valuePrefix), "--repeating-keys", String(VERIFIABLE_KEYS),
      jars.startsWith("3.") ? "--producer.config" : "--command-config", config,
    ]);
    this.tool = tool;
    this.session = session;
    this.cluster = cluster;
    const deadline = Date.now() + 60_000;
    for (let i = 0; ; ) {
      for (; i < tool.stdout.length; i++) if (tool.stdout[i]!.includes('"producer_send_success"')) break;
      if (i < tool.stdout.length) break;
      if (tool.proc.exitCode !== null || Date.now() > deadline) {
        throw new Error(`${session.id} (VerifiableProducer on the ${cluster}) acknowledged nothing${tool.proc.exitCode !== null ? `, exited with ${tool.proc.exitCode}` : " within 60 s"}\n${tool.stdout.slice(-10).join("\n")}\n${tool.stderr().slice(-3000)}`);
      }
      await Bun.sleep(50);
    }
    this.ctx.log(`${session.id} producing to the ${cluster} (value prefix ${valuePrefix}, pid ${tool.pid})`);
  }

  async stop(): Promise<void> {
    const { tool, session } = this;
    if (!tool || !session) return;
    await tool.stop("SIGTERM");
    await tool.exited;
    this.collect(tool, session);
    this.tool = null;
    this.session = null;
    this.cluster = null;
    this.ctx.log(`${session.id} stopped on the ${session.cluster}: ${session.acked} acknowledged of ${session.sent} sent, ${session.failed} failed`);
  }

  async kill(): Promise<void> {
    await this.tool?.stop("SIGKILL");
    this.tool = null;
  }

  private collect(tool: ToolProcess, session: ProducerSession): void {
    const { history } = this.ctx;
    let summary: ToolEvent | undefined;
    for (const line of tool.stdout) {
      if (!line.startsWith("{")) continue;
      let e: ToolEvent;
      try {
        e = JSON.parse(line);
      } catch {
        continue;
      }
      if (e.name === "tool_data") summary = e;
      if (e.name !== "producer_send_success" && e.name !== "producer_send_error") continue;
      const v = VERIFIABLE_VALUE.exec(String(e.value));
      if (!v) continue;
      const seq = Number(v[2]);
      const id = `${session.id}:${seq}`;
      if (e.name === "producer_send_success") {
        session.acked++;
        history.record({ id, session: session.id, seq, cluster: session.cluster, acked: true, partition: e.partition, offset: e.offset });
      } else {
        session.failed++;
        history.record({ id, session: session.id, seq, cluster: session.cluster, acked: false, error: `${e.exception}: ${e.message}` });
      }
    }
    // without a summary (killed) the number sent is unknown: at least what was reported
    session.sent = summary ? Number(summary.sent) : session.acked + session.failed;
  }
}

export interface WorkloadOptions {
  topic: string;
  clusters: Clusters;
  /** default 2 each */
  librdkafkaProducers?: number;
  verifiableProducers?: number;
  /** records/s per producer, default 250 */
  rate?: number;
  log?: (line: string) => void;
}

/**
 * N producers writing to `topic`. Producer i is `L<i>` for the librdkafka ones, then `V<j>` for
 * the VerifiableProducers; `move(i, to)` stops producer i cleanly and starts it on the other cluster.
 */
export class DualWriteWorkload {
  readonly history = new History();
  readonly topic: string;
  readonly clusters: Clusters;
  private readonly clients: ProducerClient[] = [];
  private readonly log: (line: string) => void;

  constructor(o: WorkloadOptions) {
    this.topic = o.topic;
    this.clusters = o.clusters;
    this.log = o.log ?? ((line) => console.error(`[workload ${o.topic}] ${line}`));
    let prefix = 0;
    const ctx: ClientContext = { topic: o.topic, clusters: o.clusters, history: this.history, rate: o.rate ?? 250, log: this.log, nextPrefix: () => ++prefix };
    for (let i = 0; i < (o.librdkafkaProducers ?? 2); i++) this.clients.push(new LibrdkafkaClient(`L${i}`, ctx));
    for (let i = 0; i < (o.verifiableProducers ?? 2); i++) this.clients.push(new VerifiableClient(`V${i}`, ctx));
  }

  get producers(): Array<{ index: number; name: string; kind: ProducerKind; cluster: Side | null }> {
    return this.clients.map((c, index) => ({ index, name: c.name, kind: c.kind, cluster: c.cluster }));
  }

  /** Starts every producer (that is not running) on `cluster`. */
  async start(cluster: Side = "source"): Promise<void> {
    await Promise.all(this.clients.filter((c) => c.cluster === null).map((c) => c.start(cluster)));
  }

  /** Stops producer `i` cleanly and starts it again on `to`, continuing its numbering (librdkafka) or as a new instance (VerifiableProducer). */
  async move(i: number, to: Side): Promise<void> {
    const c = this.clients[i];
    if (!c) throw new Error(`no producer ${i}; there are ${this.clients.length}`);
    if (c.cluster === to) throw new Error(`producer ${c.name} already writes to the ${to}`);
    this.log(`moving ${c.name} to the ${to}`);
    await c.stop();
    await c.start(to);
  }

  /** Stops every producer cleanly (all acknowledgements collected). */
  async stop(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.stop()));
  }

  /** Clean-up after a failure: ends every producer at once (VerifiableProducers by SIGKILL of their pid). */
  async kill(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.kill().catch(() => {})));
  }

  /** Waits until klink has copied everything both ways (see `waitForConvergence`). */
  converge(opts?: ConvergeOptions) {
    return waitForConvergence(this.history, this.clusters, this.topic, { log: this.log, ...opts });
  }

  check(opts?: CheckOptions): Promise<CheckReport> {
    return checkDualWrite(this.history, this.clusters, this.topic, { log: this.log, ...opts });
  }
}

// ---------------------------------------------------------------------------------------------
// Reading a whole topic

export interface ReadRecord {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Header[];
  timestamp: number;
}

async function partitionsOf(admin: Admin, topic: string): Promise<number[]> {
  const [d] = await admin.describeTopics([topic]);
  if (!d) throw new Error(`topic ${topic} not found`);
  return d.partitions.map((p) => p.partition).sort((a, b) => a - b);
}

/** Every record of `topic` on `cluster`, read_committed, from the beginning up to the end offsets as they are now. */
export async function readTopic(cluster: KafkaCluster, topic: string, timeoutMs = 120_000): Promise<ReadRecord[]> {
  const admin = new Admin(plain(cluster));
  let ends: Array<{ partition: number; low: number; high: number }>;
  try {
    const partitions = await partitionsOf(admin, topic);
    ends = await admin.watermarks(partitions.map((partition) => ({ topic, partition })), true);
  } finally {
    admin.close();
  }
  const consumer = new Consumer(plain(cluster, { "isolation.level": "read_committed", "enable.partition.eof": true, "auto.offset.reset": "error" }));
  const out: ReadRecord[] = [];
  try {
    const open = new Map(ends.filter((e) => e.high > e.low).map((e) => [e.partition, e.high]));
    consumer.assign([...open.keys()].map((partition) => ({ topic, partition, offset: Offset.BEGINNING })));
    const deadline = Date.now() + timeoutMs;
    while (open.size) {
      if (Date.now() > deadline) {
        const at = consumer.position([...open.keys()].map((partition) => ({ topic, partition }))).map((p) => `${p.partition}@${p.offset}/${open.get(p.partition)}`);
        throw new Error(`reading ${topic} on ${cluster.name}: end offsets not reached within ${timeoutMs} ms (partition@position/end: ${at.join(" ")})`);
      }
      for (const m of await consumer.consume(2000, 200)) {
        try {
          if (m.isPartitionEof) {
            if (m.offset >= (open.get(m.partition) ?? Infinity)) open.delete(m.partition);
            continue;
          }
          if (m.errorCode) throw m.error;
          out.push({ partition: m.partition, offset: m.offset, key: m.key(), value: m.value(), headers: m.headers(), timestamp: m.timestamp().timestamp });
          if (m.offset + 1 >= (open.get(m.partition) ?? Infinity)) open.delete(m.partition);
        } finally {
          m.destroy();
        }
      }
    }
  } finally {
    consumer.close();
  }
  return out;
}

/** High watermarks summed per cluster: a cheap sign that something was still written. */
async function endOffsetSum(cluster: KafkaCluster, topic: string): Promise<number> {
  const admin = new Admin(plain(cluster));
  try {
    const partitions = await partitionsOf(admin, topic);
    const w = await admin.watermarks(partitions.map((partition) => ({ topic, partition })));
    return w.reduce((n, p) => n + p.high, 0);
  } finally {
    admin.close();
  }
}

/**
 * Records seen by Kafka's VerifiableConsumer (--verbose: one "record_data" event per record),
 * reading until it has passed `lastOffsets` (per partition, from the librdkafka reader) or the deadline.
 */
async function readWithVerifiableConsumer(cluster: KafkaCluster, topic: string, lastOffsets: Map<number, number>, timeoutMs = 90_000): Promise<{ records: Array<{ partition: number; offset: number; key: string | null; value: string | null }>; complete: boolean }> {
  const vc: VerifiableTool = await verifiableConsumer(cluster, { topic, groupId: uniqueName("dual-write-check"), verbose: true, props: { "isolation.level": "read_committed" } });
  const records: Array<{ partition: number; offset: number; key: string | null; value: string | null }> = [];
  const reached = new Map<number, number>();
  const reading = (async () => {
    for await (const e of vc.events) {
      if (e.name !== "record_data") continue;
      records.push({ partition: e.partition, offset: e.offset, key: e.key ?? null, value: e.value ?? null });
      reached.set(e.partition, Math.max(reached.get(e.partition) ?? -1, e.offset));
    }
  })();
  const done = () => [...lastOffsets].every(([p, last]) => (reached.get(p) ?? -1) >= last);
  const deadline = Date.now() + timeoutMs;
  try {
    while (!done() && Date.now() < deadline && vc.proc.exitCode === null) await Bun.sleep(200);
    if (done()) await Bun.sleep(1_000); // anything beyond the librdkafka reader's last record shows up too
  } finally {
    await vc.stop();
    await reading;
  }
  return { records, complete: done() };
}

// ---------------------------------------------------------------------------------------------
// Checking

export type ViolationKind = "I1 missing" | "I2 duplicate" | "I3 order" | "I5 fidelity" | "one-sided" | "unexpected" | "readers disagree";

export interface Violation {
  kind: ViolationKind;
  /** the cluster where it was seen (or where the record is missing) */
  cluster: Side;
  /** `written to the target`, `partition 3`...: what the report groups by */
  group: string;
  example: string;
  /** the record concerned, when there is one */
  id?: string;
}

/** A record as any reader saw it, identified. */
interface Seen {
  partition: number;
  offset: number;
  id: string | null;
  session: string | null;
  seq: number;
  preview: string;
}

interface Analysis {
  violations: Violation[];
  /** per session: distinct records found on each cluster */
  found: Map<string, Record<Side, number>>;
  read: Record<Side, number>;
}

const preview = (v: string | null) => (v === null ? "null" : JSON.stringify(v.length > 24 ? `${v.slice(0, 24)}…` : v));

function identifyAll(history: History, records: Array<{ partition: number; offset: number; value: string | null }>): Seen[] {
  return records.map((r) => {
    const who = history.identify(r.value);
    return { partition: r.partition, offset: r.offset, id: who ? `${who.session}:${who.seq}` : null, session: who?.session ?? null, seq: who?.seq ?? -1, preview: preview(r.value) };
  });
}

/** I1, I2, I3 and unexpected/one-sided records, on one reader's view of both clusters. */
function analyse(history: History, seen: Record<Side, Seen[]>): Analysis {
  const violations: Violation[] = [];
  const at: Record<Side, Map<string, Seen[]>> = { source: new Map(), target: new Map() };
  const found = new Map<string, Record<Side, number>>();
  for (const side of ["source", "target"] as const) {
    // offset order, then: per session and partition the sequence must increase (I3)
    const sorted = [...seen[side]].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    const last = new Map<string, Seen>();
    for (const s of sorted) {
      if (!s.id) {
        violations.push({ kind: "unexpected", cluster: side, group: `partition ${s.partition}`, example: `${side} partition ${s.partition} offset ${s.offset}: value ${s.preview} was written by none of the workload's producers` });
        continue;
      }
      const list = at[side].get(s.id);
      if (list) list.push(s);
      else at[side].set(s.id, [s]);
      const lane = `${s.session}/${s.partition}`;
      const prev = last.get(lane);
      if (prev && prev.seq >= s.seq) {
        violations.push({ kind: "I3 order", cluster: side, group: `session ${s.session}`, example: `${side} partition ${s.partition}: ${s.session} seq ${s.seq} at offset ${s.offset} comes after seq ${prev.seq} at offset ${prev.offset}` });
      }
      if (!prev || s.seq > prev.seq) last.set(lane, s);
    }
    for (const [id, list] of at[side]) {
      const session = list[0]!.session!;
      const f = found.get(session) ?? { source: 0, target: 0 };
      f[side]++;
      found.set(session, f);
      if (list.length > 1) {
        violations.push({ kind: "I2 duplicate", cluster: side, group: `session ${session}`, example: `${id} is on the ${side} ${list.length} times (${list.map((s) => `partition ${s.partition} offset ${s.offset}`).join(", ")})` });
      }
    }
  }
  for (const r of history.records.values()) {
    if (!r.acked) continue;
    for (const side of ["source", "target"] as const) {
      if (at[side].has(r.id)) continue;
      const how = r.cluster === side ? "acknowledged by the" : "written to the";
      violations.push({
        kind: "I1 missing", cluster: side, group: `written to the ${r.cluster}`, id: r.id,
        example: `${r.id} (${how} ${r.cluster}, partition ${r.partition} offset ${r.offset}) is not on the ${side}`,
      });
    }
  }
  // records without acknowledgement: allowed to be absent, but not on one cluster only
  const unacked = new Set<string>();
  for (const side of ["source", "target"] as const) for (const id of at[side].keys()) if (!history.records.get(id)?.acked) unacked.add(id);
  for (const id of unacked) {
    const on = (["source", "target"] as const).filter((side) => at[side].has(id));
    if (on.length === 1) {
      const s = at[on[0]!].get(id)![0]!;
      const sent = history.records.get(id);
      violations.push({
        kind: "one-sided", cluster: on[0]!, group: `on the ${on[0]} only`,
        example: `${id} (sent without acknowledgement${sent?.error ? `: ${sent.error}` : ""}) is on the ${on[0]} (partition ${s.partition} offset ${s.offset}) but not on the ${on[0] === "source" ? "target" : "source"}`,
      });
    }
  }
  return { violations, found, read: { source: seen.source.length, target: seen.target.length } };
}

const sameBytes = (a: Buffer | null, b: Buffer | null) => (a === null || b === null ? a === b : a.equals(b));
const showBytes = (b: Buffer | null) => (b === null ? "null" : /^[\x20-\x7e]*$/.test(b.toString("latin1")) ? JSON.stringify(b.toString("latin1")) : `0x${b.toString("hex")}`);

/** I5 on the librdkafka reader's records: as produced, in the partition the producer was told. */
function fidelity(history: History, records: Record<Side, ReadRecord[]>): Violation[] {
  const violations: Violation[] = [];
  for (const side of ["source", "target"] as const) {
    for (const m of records[side]) {
      const value = m.value?.toString("latin1") ?? null;
      const who = history.identify(value);
      if (!who) continue;
      const id = `${who.session}:${who.seq}`;
      const where = `${side} partition ${m.partition} offset ${m.offset} (${id})`;
      const bad = (what: string) => violations.push({ kind: "I5 fidelity", cluster: side, group: what.split(":")[0]!, example: `${where}: ${what}` });
      const sent = history.records.get(id);
      if (sent?.acked && sent.partition !== m.partition) bad(`partition: ${m.partition}, acknowledged in partition ${sent.partition}`);
      const session = history.sessions.get(who.session)!;
      if (session.kind === "verifiable") {
        const key = String(who.seq % VERIFIABLE_KEYS);
        if (m.key?.toString("latin1") !== key) bad(`key: ${showBytes(m.key)}, produced ${JSON.stringify(key)}`);
        continue;
      }
      const want = librdkafkaRecord(history, who.session, who.seq);
      if (!sameBytes(m.key, Buffer.from(want.key))) bad(`key: ${showBytes(m.key)}, produced ${JSON.stringify(want.key)}`);
      if (!sameBytes(m.value, Buffer.from(want.value))) bad(`value: ${showBytes(m.value)}, produced ${JSON.stringify(want.value)}`);
      if (m.timestamp !== want.timestamp) bad(`timestamp: ${m.timestamp}, produced ${want.timestamp}`);
      const headersMatch = m.headers.length === want.headers.length && m.headers.every(([n, v], i) => n === want.headers[i]![0] && sameBytes(v, want.headers[i]![1]));
      if (!headersMatch) {
        const show = (hs: Array<[string, Buffer | null]>) => hs.map(([n, v]) => `${n}=${showBytes(v)}`).join(" ");
        bad(`headers: [${show(m.headers)}], produced [${show(want.headers)}]`);
      }
    }
  }
  return violations;
}

/** Records one reader saw and the other did not (by partition, offset and value). */
function compareReaders(side: Side, a: Array<{ partition: number; offset: number; value: string | null }>, b: Array<{ partition: number; offset: number; value: string | null }>): Violation[] {
  const key = (r: { partition: number; offset: number; value: string | null }) => `${r.partition}@${r.offset}=${r.value}`;
  const inB = new Set(b.map(key));
  const inA = new Set(a.map(key));
  const out: Violation[] = [];
  for (const r of a) if (!inB.has(key(r))) out.push({ kind: "readers disagree", cluster: side, group: `only the librdkafka reader`, example: `${side} partition ${r.partition} offset ${r.offset} ${preview(r.value)}: read by librdkafka, not by VerifiableConsumer` });
  for (const r of b) if (!inA.has(key(r))) out.push({ kind: "readers disagree", cluster: side, group: `only VerifiableConsumer`, example: `${side} partition ${r.partition} offset ${r.offset} ${preview(r.value)}: read by VerifiableConsumer, not by librdkafka` });
  return out;
}

export interface CheckOptions {
  /** also read both clusters with Kafka's VerifiableConsumer (default true) */
  verifiableConsumer?: boolean;
  /** examples per kind of violation (default 5) */
  examples?: number;
  log?: (line: string) => void;
}

export interface CheckReport {
  ok: boolean;
  violations: Violation[];
  /** per kind: how many */
  counts: Partial<Record<ViolationKind, number>>;
  /** what the report is about, then every kind of violation with counts by group and examples */
  text: string;
}

/** Reads `topic` on both clusters and checks I1, I2, I3 and I5 against what the producers sent. */
export async function checkDualWrite(history: History, clusters: Clusters, topic: string, opts: CheckOptions = {}): Promise<CheckReport> {
  const records = { source: await readTopic(clusters.source, topic), target: await readTopic(clusters.target, topic) };
  const asText = (rs: ReadRecord[]) => rs.map((r) => ({ partition: r.partition, offset: r.offset, value: r.value?.toString("latin1") ?? null }));
  const main = analyse(history, { source: identifyAll(history, asText(records.source)), target: identifyAll(history, asText(records.target)) });
  const violations = [...main.violations, ...fidelity(history, records)];

  const lines: string[] = [];
  if (opts.verifiableConsumer ?? true) {
    const lastOffsets = (rs: ReadRecord[]) => {
      const m = new Map<number, number>();
      for (const r of rs) m.set(r.partition, Math.max(m.get(r.partition) ?? -1, r.offset));
      return m;
    };
    const [vs, vt] = await Promise.all([
      readWithVerifiableConsumer(clusters.source, topic, lastOffsets(records.source)),
      readWithVerifiableConsumer(clusters.target, topic, lastOffsets(records.target)),
    ]);
    violations.push(...compareReaders("source", asText(records.source), vs.records), ...compareReaders("target", asText(records.target), vt.records));
    const second = analyse(history, { source: identifyAll(history, vs.records), target: identifyAll(history, vt.records) });
    const byKind = countBy(second.violations.map((v) => `${v.kind} on the ${v.cluster}`));
    lines.push(
      `  VerifiableConsumer: source ${fmt(vs.records.length)} records${vs.complete ? "" : " (stopped at its deadline before the end)"}, target ${fmt(vt.records.length)}${vt.complete ? "" : " (stopped at its deadline before the end)"}; ` +
        (second.violations.length ? `its own view breaks: ${[...byKind].map(([k, n]) => `${k}: ${fmt(n)}`).join(", ")}` : "its own view passes I1-I3"),
    );
  }

  const counts: Partial<Record<ViolationKind, number>> = {};
  for (const v of violations) counts[v.kind] = (counts[v.kind] ?? 0) + 1;
  const ok = violations.length === 0;
  const acked = history.acked();
  const ackedOn = (side: Side) => acked.filter((r) => r.cluster === side).length;
  const unacked = history.records.size - acked.length;
  const head = [
    `dual-write check of ${topic}: ${ok ? "PASSED" : `FAILED (${[...Object.entries(counts)].map(([k, n]) => `${k}: ${fmt(n)}`).join(", ")})`}`,
    `  ${fmt(acked.length)} records acknowledged (${fmt(ackedOn("source"))} written to the source, ${fmt(ackedOn("target"))} to the target), ${fmt(unacked)} sent without acknowledgement`,
    `  librdkafka reader (read_committed): source ${fmt(main.read.source)} records, target ${fmt(main.read.target)}`,
    ...lines,
    sessionTable(history, main.found),
  ];
  const body = describeViolations(violations, history, opts.examples ?? 5);
  const text = [...head, ...body].join("\n");
  return { ok, violations, counts, text };
}

function sessionTable(history: History, found: Map<string, Record<Side, number>>): string {
  const rows = [["session", "kind", "written to", "acked", "failed", "on source", "on target"]];
  for (const s of history.sessions.values()) {
    const f = found.get(s.id) ?? { source: 0, target: 0 };
    rows.push([s.id, s.kind === "verifiable" ? `VerifiableProducer ${s.valuePrefix}` : "librdkafka", s.cluster, fmt(s.acked), fmt(s.failed), fmt(f.source), fmt(f.target)]);
  }
  const width = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => "    " + r.map((c, i) => (i >= 3 ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join("  ")).join("\n");
}

function describeViolations(violations: Violation[], history: History, examples: number): string[] {
  const out: string[] = [];
  const byKind = new Map<string, Violation[]>();
  for (const v of violations) {
    const k = `${v.kind} on the ${v.cluster}`;
    const list = byKind.get(k);
    if (list) list.push(v);
    else byKind.set(k, [v]);
  }
  const title: Record<ViolationKind, string> = {
    "I1 missing": "acknowledged records missing",
    "I2 duplicate": "records present more than once",
    "I3 order": "records out of their session's order",
    "I5 fidelity": "records that differ from what was produced",
    "one-sided": "unacknowledged records present on one cluster only",
    unexpected: "records no producer of this workload wrote",
    "readers disagree": "records the two readers disagree on",
  };
  for (const list of byKind.values()) {
    const v0 = list[0]!;
    out.push(`${v0.kind}: ${fmt(list.length)} ${title[v0.kind]} on the ${v0.cluster}`);
    const groups = countBy(list.map((v) => v.group));
    out.push(`  by ${[...groups].map(([g, n]) => `${g}: ${fmt(n)}`).join(", ")}`);
    if (v0.kind === "I1 missing") out.push(...diagnoseMissing(list, history, v0.cluster));
    for (const v of list.slice(0, examples)) out.push(`  e.g. ${v.example}`);
  }
  return out;
}

/** Says in words what the missing records have in common (the likeliest cause of a failure). */
function diagnoseMissing(list: Violation[], history: History, side: Side): string[] {
  const other: Side = side === "source" ? "target" : "source";
  const acked = history.acked();
  const writtenToOther = acked.filter((r) => r.cluster === other);
  const missingIds = new Set(list.map((v) => v.id));
  const missingFromOther = writtenToOther.filter((r) => missingIds.has(r.id));
  const lines: string[] = [];
  if (writtenToOther.length && missingFromOther.length === writtenToOther.length) {
    lines.push(`  none of the ${fmt(writtenToOther.length)} records written directly to the ${other} reached the ${side}` +
      (side === "source" ? " (nothing was routed back: is there a Router?)" : " (nothing was copied: is the Fetcher running?)"));
  } else if (missingFromOther.length) {
    lines.push(`  ${fmt(missingFromOther.length)} of the ${fmt(writtenToOther.length)} records written directly to the ${other} did not reach the ${side}`);
  }
  // per partition: from which offset on (on the cluster the record was written to) records are missing
  const firstMissing = new Map<number, { offset: number; count: number; total: number }>();
  for (const r of missingFromOther) {
    const f = firstMissing.get(r.partition!) ?? { offset: Infinity, count: 0, total: 0 };
    f.offset = Math.min(f.offset, r.offset!);
    f.count++;
    firstMissing.set(r.partition!, f);
  }
  for (const r of writtenToOther) {
    const f = firstMissing.get(r.partition!);
    if (f) f.total++;
  }
  if (firstMissing.size) {
    lines.push(`  per partition (records written to the ${other}: missing / written, first missing at ${other} offset): ` +
      [...firstMissing].sort(([a], [b]) => a - b).map(([p, f]) => `${p}: ${fmt(f.count)}/${fmt(f.total)} from ${f.offset}`).join(", "));
  }
  return lines;
}

const fmt = (n: number) => n.toLocaleString("en-US");

function countBy(keys: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

// ---------------------------------------------------------------------------------------------
// Waiting for klink

export interface ConvergeOptions {
  /** give up after this long (default 180 s) */
  deadlineMs?: number;
  /** give up when neither cluster's end offsets moved for this long (default 25 s): nothing is being copied */
  quietMs?: number;
  log?: (line: string) => void;
}

/**
 * Waits until klink has copied everything both ways: whenever both clusters' end offsets have
 * been still for a moment, reads both (librdkafka reader only) and checks; returns as soon as
 * that check passes, or when nothing moved for `quietMs`, or at the deadline. It never fails:
 * the caller's final check says what is wrong.
 */
export async function waitForConvergence(history: History, clusters: Clusters, topic: string, opts: ConvergeOptions = {}): Promise<{ converged: boolean; waitedMs: number }> {
  const t0 = Date.now();
  const deadline = t0 + (opts.deadlineMs ?? 180_000);
  const quietMs = opts.quietMs ?? 25_000;
  let ends = "";
  let changedAt = Date.now();
  let checkedAt = "";
  while (Date.now() < deadline) {
    const now = `${await endOffsetSum(clusters.source, topic)}/${await endOffsetSum(clusters.target, topic)}`;
    if (now !== ends) {
      ends = now;
      changedAt = Date.now();
    } else if (Date.now() - changedAt >= 2_000 && checkedAt !== now) {
      checkedAt = now;
      const report = await checkDualWrite(history, clusters, topic, { verifiableConsumer: false });
      if (report.ok) {
        opts.log?.(`both clusters complete after ${((Date.now() - t0) / 1000).toFixed(1)} s (end offsets ${now})`);
        return { converged: true, waitedMs: Date.now() - t0 };
      }
    }
    if (Date.now() - changedAt >= quietMs) {
      opts.log?.(`end offsets (source/target ${now}) still for ${quietMs / 1000} s and the clusters differ: giving up waiting`);
      return { converged: false, waitedMs: Date.now() - t0 };
    }
    await Bun.sleep(1_000);
  }
  opts.log?.(`not complete after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return { converged: false, waitedMs: Date.now() - t0 };
}
