/**
 * storage/kafka: migration state in a compacted topic on a cluster of the migration (the target
 * by default), as Kafka Connect keeps its configs and offsets: any machine that reaches the
 * cluster can run the link, and nothing lives on a local disk.
 *
 * The topic has one partition, so its order is total. Each `write` is one Kafka transaction of a
 * transactional producer whose `transactional.id` derives from the link name: read_committed
 * readers see all of a batch or none of it, also across kill -9 (a transaction left open is
 * aborted by the next instance's initTransactions, or after transaction.timeout.ms). Opening the
 * state for writing fences the instance that had it: its next write fails. One writer at a time:
 * a writing instance that wrote nothing for FENCE_CHECK_MS writes a small record (klink/alive)
 * in a transaction, so it notices a fence within about that long and `fenced` tells `klink run`
 * to stop copying; a starting instance waits TAKEOVER_WAIT_MS after fencing before `open` returns.
 *
 * On open the topic is read (read_committed) from its start to its last stable offset and the
 * state is kept in memory: reads never go to the cluster. A read-only open (plan, verify,
 * offsets) is a snapshot taken at open; it creates nothing and writes nothing.
 *
 * Records, key → value; a null value (tombstone) deletes the key, and compaction keeps only the
 * last value of each key, which is exactly what reading the topic to its end materializes:
 *   klink/format                    JSON {format, version, link}: written once, marks the topic as klink's
 *   klink/alive                     an instance's liveness check (its time): read past
 *   kv/<key>                        the value, UTF-8
 *   topic/<name>, group/<id>        JSON {state, detail, updatedAt}
 *   partition/<topic>/<partition>   JSON {mode, sinceOffset, detail, updatedAt}
 *   map/<topic>/<partition>/<first source offset>
 *                                   up to 16,384 offset-map rows of one partition (binary, see encodeRows)
 * A source offset is in one row only, so keys of map records never repeat and compaction keeps them all.
 */
import type { JsonSchema } from "../../src/config/schema.ts";
import type { ClientOptions } from "../../src/rdkafka/client.ts";
import { Admin, Consumer, ErrorCode, KafkaError, Offset, OffsetSpec, Producer, type ClientConfig } from "../../src/rdkafka/index.ts";
import type { GroupState, OffsetMapRow, OptionProblem, PartitionState, PluginContext, Store, StoreWrite, TopicState } from "../plugin.ts";

/**
 * How long one state write may take (its transaction's timeout). A target that does not answer
 * for longer than librdkafka's 60-s default (a broker restart on a loaded machine) made the
 * outcome of a write unknown, and klink stopped; a killed klink's open transaction is aborted by
 * the next instance's initTransactions at once, whatever this is.
 */
const TRANSACTION_TIMEOUT_MS = 180_000;

export const name = "kafka";
export const kind = "storage";

export interface KafkaStoreOptions {
  topic?: string;
  cluster: "target" | "source";
  replicationFactor: number;
  configs: Record<string, string>;
}

export const optionsSchema: JsonSchema = {
  description:
    "Migration state in a compacted topic on the target (or source) cluster, as Kafka Connect keeps its own: " +
    "no local file, so any machine that reaches the cluster can run the link. One klink instance writes at a time; " +
    "a new one fences the old.",
  type: "object",
  additionalProperties: false,
  properties: {
    topic: {
      description: "the state topic (default: __klink-<link.name>-state); created when missing, with 1 partition and cleanup.policy=compact",
      type: "string",
      pattern: "^[A-Za-z0-9._-]{1,249}$",
      examples: ["__klink-orders-to-new-cluster-state"],
    },
    cluster: {
      description: "the cluster that holds the state topic; klink reaches it with the same settings as its other clients of that cluster (bootstrap, auth, librdkafka)",
      type: "string",
      enum: ["target", "source"],
      default: "target",
    },
    replicationFactor: {
      description: "replicas of the state topic when klink creates it; -1: the cluster's default.replication.factor",
      type: "integer",
      minimum: -1,
      default: -1,
      examples: [3],
    },
    configs: {
      description:
        "topic configs when klink creates the topic, over klink's segment.bytes=67108864 and min.cleanable.dirty.ratio=0.1 " +
        "(small segments, so compaction keeps what a restart reads small); cleanup.policy is always compact. Writes use acks=all, so min.insync.replicas applies",
      type: "object",
      additionalProperties: { type: "string" },
      default: {},
      examples: [{ "min.insync.replicas": "2" }],
    },
  },
  examples: [{ replicationFactor: 3, configs: { "min.insync.replicas": "2" } }, { topic: "klink-state-orders", cluster: "source" }],
};

export function check(options: Partial<KafkaStoreOptions>): OptionProblem[] {
  const problems: OptionProblem[] = [];
  if (options.replicationFactor === 0) problems.push({ path: ["replicationFactor"], message: "must be -1 (the cluster's default) or at least 1" });
  const policy = options.configs?.["cleanup.policy"];
  if (policy !== undefined && policy !== "compact") {
    problems.push({ path: ["configs", "cleanup.policy"], message: `must be compact (it is '${policy}'): with delete, the state would be deleted after retention.ms` });
  }
  return problems;
}

/** The state topic for these options: `topic`, or __klink-<link.name>-state. */
export function stateTopic(options: { topic?: string }, context: Pick<PluginContext, "linkName">): string {
  return options.topic ?? `__klink-${context.linkName}-state`;
}

/** Stable across restarts, so that initTransactions fences (and aborts) a killed or older instance. */
export function transactionalId(linkName: string): string {
  return `klink-${linkName}-state`;
}

export async function create(options: KafkaStoreOptions, context: PluginContext): Promise<Store> {
  const cluster = options.cluster ?? "target";
  if (!context.clusterSettings) {
    throw new Error(`it needs the client settings of the ${cluster} cluster, and this command does not pass them (PluginContext.clusterSettings)`);
  }
  const settings = await context.clusterSettings(cluster);
  return KafkaStore.open({
    ...settings,
    cluster,
    topic: stateTopic(options, context),
    linkName: context.linkName,
    replicationFactor: options.replicationFactor ?? -1,
    topicConfigs: options.configs ?? {},
    readOnly: context.readOnly,
  });
}

export interface KafkaStoreSettings {
  /** librdkafka settings and client options of klink's clients of that cluster. */
  config: ClientConfig;
  options: ClientOptions;
  /** For messages: which cluster of the migration it is. */
  cluster: "target" | "source";
  topic: string;
  linkName: string;
  replicationFactor?: number;
  topicConfigs?: Record<string, string>;
  readOnly?: boolean;
  /** How long reading the topic may go without progress before open fails (default 60 s). */
  stallTimeoutMs?: number;
}

/**
 * Configs of a topic klink creates, under storage.options.configs: the active segment is never
 * compacted, and every write adds records, so a smaller segment than the broker's 1 GiB keeps
 * what a restart reads small.
 */
const TOPIC_DEFAULTS: Record<string, string> = { "segment.bytes": String(64 * 2 ** 20), "min.cleanable.dirty.ratio": "0.1" };

const FORMAT = "klink-state";
const FORMAT_VERSION = 1;
const FORMAT_KEY = "klink/format";
const MAP_ROWS_PER_RECORD = 16_384;
const ORIGIN = { source: 0, target: 1 } as const;
const ORIGINS = ["source", "target"] as const;

// Broker error codes that name a cause the operator must fix.
const TOPIC_AUTHORIZATION_FAILED = 29;
const CLUSTER_AUTHORIZATION_FAILED = 31;
const INVALID_REPLICATION_FACTOR = 38;
const INVALID_CONFIG = 40;
const TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53;
const INVALID_PRODUCER_EPOCH = 47;
const PRODUCER_FENCED = 90;
const FENCED = -144; // librdkafka's _FENCED
const AUTHENTICATION = -169; // librdkafka's _AUTHENTICATION

type Pending = { key: string; value: Uint8Array | string | null };

/**
 * A writing instance that wrote nothing for this long checks that it still holds the
 * transactional id, with a transaction of one small record (a fenced producer's next transaction
 * fails): fenced, it stops copying within about this long even when it has no state to write.
 */
const FENCE_CHECK_MS = 1_000;
/**
 * How long a starting instance waits after fencing the previous one before `open` returns and
 * its data path starts: the old one notices the fence within FENCE_CHECK_MS (plus the tick of
 * its check) and one transaction's round trip, then stops producing. Several check intervals
 * leave room for a slow round trip on a busy cluster.
 */
const TAKEOVER_WAIT_MS = 5 * FENCE_CHECK_MS;
/** The liveness record's kv key: what is in it does not matter (compaction keeps the last). */
/** The liveness record: klink's own, outside the `kv/` keys a caller puts and gets. */
const ALIVE_KEY = "klink/alive";

export class KafkaStore implements Store {
  readonly location: string;
  private readonly kv = new Map<string, string>();
  private readonly topicStates = new Map<string, TopicState>();
  private readonly groupStates = new Map<string, GroupState>();
  private readonly partitionStates = new Map<string, PartitionState>();
  private readonly maps = new Map<string, OffsetMap>();
  private producer: Producer | null = null;
  private formatSeen = false;
  /** Set once a write failed in a way that leaves this instance unable to write (fenced, outcome unknown). */
  private broken: Error | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** Writes queued or running. */
  private writing = 0;
  private closed = false;
  readonly fenced: Promise<Error>;
  private onFenced!: (err: Error) => void;
  private lastTransactionAt = 0;
  private fenceCheck: Timer | null = null;

  private constructor(private readonly s: KafkaStoreSettings) {
    this.location = `topic ${s.topic} on the ${s.cluster} cluster`;
    this.fenced = new Promise((resolve) => (this.onFenced = resolve));
  }

  /**
   * Opens the state: checks (or creates) the topic, takes the transactional id (fencing an older
   * instance), then reads the topic to its end. Read-only: a missing topic is empty state.
   */
  static async open(settings: KafkaStoreSettings): Promise<KafkaStore> {
    const store = new KafkaStore(settings);
    const admin = new Admin(settings.config, settings.options);
    try {
      const exists = await store.checkTopic(admin);
      if (!exists && settings.readOnly) return store;
      if (!exists) await store.createTopic(admin);
      if (settings.readOnly) {
        await store.readAll(admin);
        return store;
      }
      store.producer = store.takeTransactionalId();
      const fencedAt = performance.now();
      await store.readAll(admin);
      // Written by an instance before: it may still be copying until it notices the fence.
      const hadWriter = store.formatSeen;
      if (!store.formatSeen) await store.write([]); // the format record alone
      store.startFenceCheck();
      if (hadWriter) await Bun.sleep(Math.max(0, fencedAt + TAKEOVER_WAIT_MS - performance.now()));
      return store;
    } catch (err) {
      await store.close().catch(() => {});
      throw err;
    } finally {
      admin.close();
    }
  }

  private get where(): string {
    return `state topic ${this.s.topic} on the ${this.s.cluster} cluster`;
  }

  /** True when the topic exists (and is usable as state); throws what to fix otherwise. */
  private async checkTopic(admin: Admin): Promise<boolean> {
    let partitions: number;
    try {
      const [description] = await admin.describeTopics([this.s.topic]);
      partitions = description!.partitions.length;
    } catch (err) {
      if (err instanceof KafkaError && err.code === ErrorCode.UNKNOWN_TOPIC_OR_PART) return false;
      throw this.explain(err, "describe");
    }
    if (partitions !== 1) {
      throw new Error(`${this.where} has ${partitions} partitions; klink's state topic must have exactly 1 (its order must be total): choose another storage topic`);
    }
    let policy: string | null | undefined;
    try {
      policy = (await admin.describeTopicConfigs(this.s.topic)).find((c) => c.name === "cleanup.policy")?.value;
    } catch (err) {
      // Not allowed to describe configs: the check cannot be made; reading and writing may still work.
      if (err instanceof KafkaError && err.code === TOPIC_AUTHORIZATION_FAILED) return true;
      throw this.explain(err, "describe the configs of");
    }
    const policies = (policy ?? "").split(",").map((p) => p.trim());
    if (policy != null && (!policies.includes("compact") || policies.includes("delete"))) {
      throw new Error(
        `${this.where} has cleanup.policy=${policy}, so its state would be deleted after retention.ms: ` +
          `set cleanup.policy=compact on it (kafka-configs.sh --alter --entity-type topics --entity-name ${this.s.topic} --add-config cleanup.policy=compact)`,
      );
    }
    return true;
  }

  private async createTopic(admin: Admin): Promise<void> {
    const configs = { ...TOPIC_DEFAULTS, ...this.s.topicConfigs, "cleanup.policy": "compact" };
    try {
      await admin.createTopics([{ name: this.s.topic, partitions: 1, replicationFactor: this.s.replicationFactor ?? -1, configs }]);
    } catch (err) {
      if (err instanceof KafkaError && err.code === ErrorCode.TOPIC_ALREADY_EXISTS) return; // another instance was first
      const reason = err instanceof Error ? err.message : String(err);
      const code = err instanceof KafkaError ? err.code : 0;
      const fix =
        code === TOPIC_AUTHORIZATION_FAILED || code === CLUSTER_AUTHORIZATION_FAILED
          ? `klink may not create it: create it yourself (1 partition, cleanup.policy=compact) or allow klink's principal to CREATE it`
          : code === INVALID_REPLICATION_FACTOR
            ? "set storage.options.replicationFactor to at most the number of brokers (or create the topic yourself)"
            : code === INVALID_CONFIG || code === ErrorCode.POLICY_VIOLATION
              ? "fix storage.options.configs, or create the topic yourself (1 partition, cleanup.policy=compact)"
              : "create it yourself (1 partition, cleanup.policy=compact), or fix what the broker says";
      throw new Error(`cannot create ${this.where}: ${reason}; ${fix}`);
    }
    // The new topic reaches every broker's metadata a little after CreateTopics answers.
    for (let attempt = 0; ; attempt++) {
      if (await this.checkTopic(admin).catch(() => false)) return;
      if (attempt === 50) throw new Error(`${this.where} was created but does not show up in the cluster's metadata`);
      await Bun.sleep(100);
    }
  }

  private takeTransactionalId(timeoutMs = TRANSACTION_TIMEOUT_MS): Producer {
    const id = transactionalId(this.s.linkName);
    const producer = new Producer(
      // Compression first: the file's librdkafka overrides may choose another.
      { "compression.type": "lz4", ...this.s.config, "transactional.id": id, "linger.ms": 0, "transaction.timeout.ms": timeoutMs },
      { ...this.s.options, onError: () => {} }, // errors surface from the transaction calls
    );
    try {
      producer.initTransactions();
    } catch (err) {
      void producer.close(1_000).catch(() => {});
      // A target whose transaction.max.timeout.ms is lower: librdkafka's default then
      if (err instanceof KafkaError && err.codeName === "INVALID_TRANSACTION_TIMEOUT" && timeoutMs !== 60_000) return this.takeTransactionalId(60_000);
      if (err instanceof KafkaError && err.code === TRANSACTIONAL_ID_AUTHORIZATION_FAILED) {
        throw new Error(`${this.where}: klink may not use the transactional id ${id}: allow klink's principal to WRITE and DESCRIBE TransactionalId ${id} (${err.message})`);
      }
      throw this.explain(err, `take the transactional id ${id} for`);
    }
    return producer;
  }

  /** Reads the topic from its start to its last stable offset and materializes it. */
  private async readAll(admin: Admin): Promise<void> {
    const partition = { topic: this.s.topic, partition: 0 };
    let start: number;
    let end: number;
    try {
      const [low] = await admin.listOffsets([{ ...partition, offset: OffsetSpec.EARLIEST }]);
      const [stable] = await admin.listOffsets([{ ...partition, offset: OffsetSpec.LATEST }], true);
      start = low!.offset;
      end = stable!.offset;
    } catch (err) {
      throw this.explain(err, "read the offsets of");
    }
    const loading = new Map<string, LoadingRows>();
    const errors: KafkaError[] = [];
    if (end > start) {
      const consumer = new Consumer(
        // A short fetch wait: the end shows as an empty fetch (partition EOF), which would otherwise take 500 ms.
        { ...this.s.config, "enable.partition.eof": true, "isolation.level": "read_committed", "auto.offset.reset": "error", "fetch.wait.max.ms": 10 },
        // With an OAUTHBEARER token handler, client errors arrive here instead of in the message stream.
        { ...this.s.options, onError: (err) => errors.push(err) },
      );
      try {
        consumer.assign([{ ...partition, offset: Offset.BEGINNING }]);
        await this.consumeTo(consumer, end, loading, errors);
      } finally {
        consumer.close();
      }
    }
    for (const [key, rows] of loading) this.maps.set(key, OffsetMap.load(rows, this.s.topic));
  }

  private async consumeTo(consumer: Consumer, end: number, loading: Map<string, LoadingRows>, errors: KafkaError[]): Promise<void> {
    const stallMs = this.s.stallTimeoutMs ?? 60_000;
    let position = 0;
    let current = -1;
    let progressAt = performance.now();
    let lastError: KafkaError | null = null;
    while (position < end) {
      const before = position;
      const messages = await consumer.consume(10_000, 200);
      try {
        for (const err of errors.splice(0)) {
          if (isPermanent(err.code)) throw this.explain(err, "read");
          lastError = err;
        }
        for (const m of messages) {
          if (m.isPartitionEof) {
            position = Math.max(position, m.offset); // past trailing transaction markers too
          } else if (m.errorCode) {
            const err = m.error!;
            if (isPermanent(err.code)) throw this.explain(err, "read");
            lastError = err; // transient: librdkafka retries by itself
          } else {
            current = m.offset;
            this.applyRecord(m.key(), m.value(), m.offset, loading);
            position = m.offset + 1;
          }
        }
      } catch (err) {
        if (err instanceof SyntaxError) throw new Error(`${this.where}: the record at offset ${current} is not klink state (${err.message}): choose another storage topic`);
        throw err;
      } finally {
        for (const m of messages) m.destroy(); // all of them, also after a throw: the consumer cannot close while one lives
      }
      if (position > before) progressAt = performance.now();
      else if (performance.now() - progressAt > stallMs) {
        throw new Error(`reading ${this.where} made no progress for ${stallMs / 1000} s at offset ${position} of ${end}${lastError ? `: ${lastError.message}` : ""}`);
      }
    }
  }

  private applyRecord(keyBytes: Buffer | null, value: Buffer | null, offset: number, loading: Map<string, LoadingRows>): void {
    const key = keyBytes?.toString("utf8") ?? "";
    const slash = key.indexOf("/");
    const prefix = slash < 0 ? key : key.slice(0, slash);
    const rest = key.slice(slash + 1);
    const text = () => value!.toString("utf8");
    switch (prefix) {
      case "kv":
        if (value === null) this.kv.delete(rest);
        else this.kv.set(rest, text());
        return;
      case "topic":
        if (value === null) this.topicStates.delete(rest);
        else this.topicStates.set(rest, { topic: rest, ...JSON.parse(text()) });
        return;
      case "group":
        if (value === null) this.groupStates.delete(rest);
        else this.groupStates.set(rest, { group: rest, ...JSON.parse(text()) });
        return;
      case "partition": {
        const [topic, p] = splitPartition(rest);
        if (value === null) this.partitionStates.delete(mapKey(topic, p));
        else this.partitionStates.set(mapKey(topic, p), { topic, partition: p, ...JSON.parse(text()) });
        return;
      }
      case "map": {
        if (value === null) return;
        const [topic, p] = splitPartition(rest.slice(0, rest.lastIndexOf("/")));
        const k = mapKey(topic, p);
        let rows = loading.get(k);
        if (!rows) loading.set(k, (rows = { topic, partition: p, source: [], target: [], origin: [] }));
        decodeRows(value, rows);
        return;
      }
      case "klink":
        if (key === FORMAT_KEY && value !== null) {
          const format = JSON.parse(text()) as { format?: string; version?: number; link?: string };
          if (format.format !== FORMAT) break;
          if ((format.version ?? 0) > FORMAT_VERSION) throw new Error(`${this.where} was written by a newer klink (state format ${format.version}); use that klink`);
          if (format.link !== this.s.linkName) {
            throw new Error(`${this.where} holds the state of link '${format.link}', not of '${this.s.linkName}': give each migration its own storage topic`);
          }
          this.formatSeen = true;
          return;
        }
        if (key === ALIVE_KEY) return; // an instance's liveness check, nothing to load
        break;
    }
    throw new Error(`${this.where} holds records that are not klink state (offset ${offset}, key ${JSON.stringify(key.slice(0, 80))}): choose another storage topic`);
  }

  /** An error that says what to fix, for a failed call on the state topic. */
  private explain(err: unknown, what: string): Error {
    if (!(err instanceof KafkaError)) return err instanceof Error ? err : new Error(String(err));
    if (err.code === TOPIC_AUTHORIZATION_FAILED) {
      // Kafka answers a missing topic that one may not describe like an existing one.
      const create = what === "describe" && !this.s.readOnly ? `, and to CREATE it unless you create it yourself (1 partition, cleanup.policy=compact)` : "";
      return new Error(`not authorized to ${what} ${this.where}: allow klink's principal to DESCRIBE, READ and WRITE topic ${this.s.topic}${create} (${err.message})`);
    }
    if (err.code === ErrorCode.SASL_AUTHENTICATION_FAILED || err.code === AUTHENTICATION) {
      return new Error(`cannot ${what} ${this.where}: the ${this.s.cluster} cluster refused klink's credentials (${err.message})`);
    }
    return new Error(`cannot ${what} ${this.where}: ${err.message}`);
  }

  // --- writes

  async write(changes: StoreWrite[]): Promise<void> {
    if (this.s.readOnly || !this.producer) throw new Error(`state ${this.location} is open read-only`);
    return this.enqueue(() => this.apply(changes));
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    this.writing++;
    const run = this.queue.then(job).finally(() => this.writing--);
    this.queue = run.catch(() => {});
    return run;
  }

  /** Every quarter FENCE_CHECK_MS: a transaction of the liveness record when none ran for FENCE_CHECK_MS. */
  private startFenceCheck(): void {
    this.fenceCheck = setInterval(() => {
      if (this.writing > 0 || this.broken || this.closed || performance.now() - this.lastTransactionAt < FENCE_CHECK_MS) return;
      const job = async () => {
        if (this.broken || this.closed) return;
        await this.commit([{ key: ALIVE_KEY, value: new Date().toISOString() }], true);
      };
      this.enqueue(job).catch(() => {}); // fenced: `fenced` says so; anything else: the next check tries again
    }, FENCE_CHECK_MS / 4);
    this.fenceCheck.unref();
  }

  private async apply(changes: StoreWrite[]): Promise<void> {
    if (this.broken) throw this.broken;
    if (this.closed) throw new Error(`state ${this.location} is closed`);
    const now = Date.now();
    const records: Pending[] = [];
    const effects: Array<() => void> = [];
    const rowsByPartition = new Map<string, NewRows>();
    if (!this.formatSeen) {
      records.push({ key: FORMAT_KEY, value: JSON.stringify({ format: FORMAT, version: FORMAT_VERSION, link: this.s.linkName }) });
      effects.push(() => (this.formatSeen = true));
    }
    for (const c of changes) {
      if ("put" in c) {
        records.push({ key: `kv/${c.put}`, value: c.value });
        effects.push(c.value === null ? () => this.kv.delete(c.put) : () => this.kv.set(c.put, c.value!));
      } else if ("topic" in c) {
        const state: TopicState = { topic: c.topic, state: c.state, detail: c.detail ?? null, updatedAt: now };
        records.push({ key: `topic/${c.topic}`, value: JSON.stringify({ state: state.state, detail: state.detail, updatedAt: now }) });
        effects.push(() => this.topicStates.set(c.topic, state));
      } else if ("group" in c) {
        const state: GroupState = { group: c.group, state: c.state, detail: c.detail ?? null, updatedAt: now };
        records.push({ key: `group/${c.group}`, value: JSON.stringify({ state: state.state, detail: state.detail, updatedAt: now }) });
        effects.push(() => this.groupStates.set(c.group, state));
      } else if ("partition" in c) {
        const { topic, partition } = c.partition;
        const state: PartitionState = { topic, partition, mode: c.mode, sinceOffset: c.sinceOffset, detail: c.detail ?? null, updatedAt: now };
        records.push({ key: `partition/${topic}/${partition}`, value: JSON.stringify({ mode: c.mode, sinceOffset: c.sinceOffset, detail: state.detail, updatedAt: now }) });
        effects.push(() => this.partitionStates.set(mapKey(topic, partition), state));
      } else {
        for (const r of c.offsets) {
          const k = mapKey(r.topic, r.partition);
          let rows = rowsByPartition.get(k);
          if (!rows) rowsByPartition.set(k, (rows = { topic: r.topic, partition: r.partition, rows: [] }));
          rows.rows.push(r);
        }
      }
    }
    for (const [k, { topic, partition, rows }] of rowsByPartition) {
      const sorted = this.checkedRows(k, topic, partition, rows);
      for (let i = 0; i < sorted.source.length; i += MAP_ROWS_PER_RECORD) {
        const end = Math.min(i + MAP_ROWS_PER_RECORD, sorted.source.length);
        records.push({ key: `map/${topic}/${partition}/${sorted.source[i]}`, value: encodeRows(sorted, i, end) });
      }
      effects.push(() => {
        let map = this.maps.get(k);
        if (!map) this.maps.set(k, (map = new OffsetMap(topic, partition)));
        map.add(sorted);
      });
    }
    if (records.length === 0) return;
    await this.commit(records);
    for (const effect of effects) effect();
  }

  /** The batch's rows of one partition sorted by source offset; throws if an offset on either side already has a row. */
  private checkedRows(k: string, topic: string, partition: number, rows: OffsetMapRow[]): SortedBatch {
    const map = this.maps.get(k);
    const bySource = [...rows].sort((a, b) => a.sourceOffset - b.sourceOffset);
    const byTarget = [...rows].sort((a, b) => a.targetOffset - b.targetOffset);
    const taken = (side: "source" | "target", sorted: OffsetMapRow[], offset: (r: OffsetMapRow) => number, index?: SortedRows) => {
      for (let i = 0; i < sorted.length; i++) {
        const o = offset(sorted[i]!);
        if (!Number.isSafeInteger(o) || o < 0) throw new Error(`offset map of ${topic}[${partition}]: ${side} offset ${o} is not an offset`);
        if ((i > 0 && offset(sorted[i - 1]!) === o) || index?.has(o)) {
          throw new Error(`offset map of ${topic}[${partition}]: ${side} offset ${o} already has a row in ${this.location}; nothing of this write was stored`);
        }
      }
    };
    taken("source", bySource, (r) => r.sourceOffset, map?.bySource);
    taken("target", byTarget, (r) => r.targetOffset, map?.byTarget);
    const n = bySource.length;
    const batch: SortedBatch = { source: new Float64Array(n), target: new Float64Array(n), origin: new Uint8Array(n) };
    for (let i = 0; i < n; i++) {
      const r = bySource[i]!;
      batch.source[i] = r.sourceOffset;
      batch.target[i] = r.targetOffset;
      batch.origin[i] = ORIGIN[r.origin];
    }
    return batch;
  }

  /** One transaction: all of `records` or none. `check`: a liveness check, whose outcome does not matter. */
  private async commit(records: Pending[], check = false): Promise<void> {
    const producer = this.producer!;
    this.lastTransactionAt = performance.now();
    try {
      producer.beginTransaction();
      for (const r of records) {
        for (;;) {
          try {
            producer.produce({ topic: this.s.topic, partition: 0, key: r.key, value: r.value });
            break;
          } catch (err) {
            if (!(err instanceof KafkaError) || err.code !== ErrorCode.QUEUE_FULL) throw err;
            producer.poll();
            await Bun.sleep(1);
          }
        }
      }
      // librdkafka keeps delivering and resumes the commit: wait as long as the transaction may
      // live, so that a target away for a while (a broker restarting) ends in a known outcome
      await producer.commitTransaction(TRANSACTION_TIMEOUT_MS + 10_000);
    } catch (err) {
      const fatal = producer.fatalError();
      if (fatal || (err instanceof KafkaError && err.fatal)) {
        const cause = fatal ?? (err as KafkaError);
        this.broken = isFenced(cause.code)
          ? new Error(
              `another klink instance opened ${this.where} (transactional id ${transactionalId(this.s.linkName)}) and fenced this one: ` +
                `this instance must stop, its last write was not stored (${cause.message})`,
            )
          : new Error(`writing ${this.where} failed for good, the last write was not stored: ${cause.message}; restart klink`);
        if (isFenced(cause.code)) this.onFenced(this.broken);
        throw this.broken;
      }
      // A liveness check that failed otherwise (the cluster is slow or away): aborted, the producer is usable again.
      if (check && (await producer.abortTransaction().then(() => true, () => false))) throw err;
      if (err instanceof KafkaError && err.txnRequiresAbort) {
        await producer.abortTransaction().catch(() => {});
        throw new Error(`${this.explain(err, "write to").message}; nothing of this write was stored`);
      }
      // Not known whether the transaction committed: this instance's memory may be wrong.
      this.broken = new Error(`${this.explain(err, "write to").message}; whether the last write was stored is unknown: restart klink`);
      throw this.broken;
    }
  }

  // --- reads (from memory)

  async get(key: string): Promise<string | null> {
    return this.kv.get(key) ?? null;
  }

  async topics(): Promise<TopicState[]> {
    return [...this.topicStates.values()].sort((a, b) => compare(a.topic, b.topic)).map((t) => ({ ...t }));
  }

  async groups(): Promise<GroupState[]> {
    return [...this.groupStates.values()].sort((a, b) => compare(a.group, b.group)).map((g) => ({ ...g }));
  }

  async partitions(topic?: string): Promise<PartitionState[]> {
    return [...this.partitionStates.values()]
      .filter((p) => topic === undefined || p.topic === topic)
      .sort((a, b) => compare(a.topic, b.topic) || a.partition - b.partition)
      .map((p) => ({ ...p }));
  }

  async seek(from: "source" | "target", topic: string, partition: number, offset: number): Promise<OffsetMapRow | null> {
    return this.maps.get(mapKey(topic, partition))?.seek(from, offset) ?? null;
  }

  async last(side: "source" | "target", topic: string, partition: number, origin?: OffsetMapRow["origin"]): Promise<OffsetMapRow | null> {
    return this.maps.get(mapKey(topic, partition))?.last(side, origin) ?? null;
  }

  async offsetMap(topic: string, partition: number, from: number, limit: number, side: "source" | "target" = "source"): Promise<OffsetMapRow[]> {
    return this.maps.get(mapKey(topic, partition))?.range(side, from, limit) ?? [];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.fenceCheck) clearInterval(this.fenceCheck);
    await this.queue;
    this.closed = true;
    await this.producer?.close(10_000);
  }
}

function isPermanent(code: number): boolean {
  return [TOPIC_AUTHORIZATION_FAILED, CLUSTER_AUTHORIZATION_FAILED, ErrorCode.SASL_AUTHENTICATION_FAILED, AUTHENTICATION, ErrorCode.OFFSET_OUT_OF_RANGE, ErrorCode.FATAL].includes(code);
}

function isFenced(code: number): boolean {
  return code === FENCED || code === PRODUCER_FENCED || code === INVALID_PRODUCER_EPOCH;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const mapKey = (topic: string, partition: number) => `${topic}\0${partition}`;

/** "<topic>/<partition>" (topic names have no '/'). */
function splitPartition(s: string): [string, number] {
  const slash = s.lastIndexOf("/");
  return [s.slice(0, slash), Number(s.slice(slash + 1))];
}

// --- the offset map in memory

interface NewRows {
  topic: string;
  partition: number;
  rows: OffsetMapRow[];
}

/** Rows of one partition in source-offset order, as columns. */
interface SortedBatch {
  source: Float64Array;
  target: Float64Array;
  origin: Uint8Array;
}

interface LoadingRows {
  topic: string;
  partition: number;
  source: number[];
  target: number[];
  origin: number[];
}

/**
 * The rows of one partition twice: sorted by source offset and sorted by target offset (the two
 * orders differ once dual write copies both ways), so every lookup is a binary search.
 */
class OffsetMap {
  readonly bySource = new SortedRows();
  readonly byTarget = new SortedRows();
  private readonly perOrigin = [0, 0];

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  static load(rows: LoadingRows, stateTopic: string): OffsetMap {
    const map = new OffsetMap(rows.topic, rows.partition);
    const n = rows.source.length;
    const source = Float64Array.from(rows.source);
    const target = Float64Array.from(rows.target);
    const origin = Uint8Array.from(rows.origin);
    for (const [keys, others] of [[source, target], [target, source]] as const) {
      const index = keys === source ? map.bySource : map.byTarget;
      let order: Uint32Array | null = null;
      for (let i = 1; i < n; i++) {
        if (keys[i]! <= keys[i - 1]!) {
          order = new Uint32Array(n).map((_, j) => j).sort((a, b) => keys[a]! - keys[b]!);
          break;
        }
      }
      const k = order ? Float64Array.from(order, (j) => keys[j]!) : keys;
      const o = order ? Float64Array.from(order, (j) => others[j]!) : others;
      const g = order ? Uint8Array.from(order, (j) => origin[j]!) : origin;
      for (let i = 1; i < n; i++) {
        if (k[i] === k[i - 1]) throw new Error(`state topic ${stateTopic}: the offset map of ${rows.topic}[${rows.partition}] has two rows for one offset (${k[i]}); the topic was written by something else than klink`);
      }
      index.insert(k, o, g);
    }
    for (let i = 0; i < n; i++) map.perOrigin[origin[i]!]!++;
    return map;
  }

  add(batch: SortedBatch): void {
    this.bySource.insert(batch.source, batch.target, batch.origin);
    const order = new Uint32Array(batch.target.length).map((_, j) => j).sort((a, b) => batch.target[a]! - batch.target[b]!);
    this.byTarget.insert(
      Float64Array.from(order, (j) => batch.target[j]!),
      Float64Array.from(order, (j) => batch.source[j]!),
      Uint8Array.from(order, (j) => batch.origin[j]!),
    );
    for (const o of batch.origin) this.perOrigin[o]!++;
  }

  private row(side: "source" | "target", rows: SortedRows, i: number): OffsetMapRow {
    const [s, t] = side === "source" ? [rows.key[i]!, rows.other[i]!] : [rows.other[i]!, rows.key[i]!];
    return { topic: this.topic, partition: this.partition, sourceOffset: s, targetOffset: t, origin: ORIGINS[rows.origin[i]!]! };
  }

  /** Among rows at or after `offset` on `from`'s side, the one with the lowest offset on the other side. */
  seek(from: "source" | "target", offset: number): OffsetMapRow | null {
    const rows = from === "source" ? this.bySource : this.byTarget;
    const start = rows.lowerBound(offset);
    if (start === rows.length) return null;
    // The rows after a group's position are few; in exact order the first one is the answer.
    let best = start;
    const other = rows.other;
    for (let i = start + 1; i < rows.length; i++) if (other[i]! < other[best]!) best = i;
    return this.row(from, rows, best);
  }

  last(side: "source" | "target", origin?: OffsetMapRow["origin"]): OffsetMapRow | null {
    const rows = side === "source" ? this.bySource : this.byTarget;
    if (origin !== undefined && this.perOrigin[ORIGIN[origin]] === 0) return null;
    for (let i = rows.length - 1; i >= 0; i--) {
      if (origin === undefined || rows.origin[i] === ORIGIN[origin]) return this.row(side, rows, i);
    }
    return null;
  }

  range(side: "source" | "target", from: number, limit: number): OffsetMapRow[] {
    const rows = side === "source" ? this.bySource : this.byTarget;
    const out: OffsetMapRow[] = [];
    for (let i = rows.lowerBound(from); i < rows.length && out.length < limit; i++) out.push(this.row(side, rows, i));
    return out;
  }
}

/** Columns sorted by `key` (strictly increasing), with each row's other-side offset and origin. */
class SortedRows {
  key = new Float64Array(0);
  other = new Float64Array(0);
  origin = new Uint8Array(0);
  length = 0;

  lowerBound(x: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.key[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(x: number): boolean {
    const i = this.lowerBound(x);
    return i < this.length && this.key[i] === x;
  }

  /** Adds rows sorted by key, none of whose keys is here yet: an append, or a merge of the tail from `lowerBound(keys[0])`. */
  insert(keys: Float64Array, others: Float64Array, origins: Uint8Array): void {
    const m = keys.length;
    if (m === 0) return;
    this.reserve(this.length + m);
    const { key, other, origin } = this;
    const at = this.lowerBound(keys[0]!);
    if (at === this.length) {
      key.set(keys, at);
      other.set(others, at);
      origin.set(origins, at);
    } else {
      // merge from the back, in place: the rows before `at` stay where they are
      let i = this.length - 1;
      let j = m - 1;
      for (let w = this.length + m - 1; j >= 0; w--) {
        if (i >= at && key[i]! > keys[j]!) {
          key[w] = key[i]!;
          other[w] = other[i]!;
          origin[w] = origin[i]!;
          i--;
        } else {
          key[w] = keys[j]!;
          other[w] = others[j]!;
          origin[w] = origins[j]!;
          j--;
        }
      }
    }
    this.length += m;
  }

  private reserve(n: number): void {
    if (n <= this.key.length) return;
    const size = Math.max(n, this.key.length * 2, 1024);
    const grow = <T extends Float64Array | Uint8Array>(a: T, b: T): T => (b.set(a.subarray(0, this.length)), b);
    this.key = grow(this.key, new Float64Array(size));
    this.other = grow(this.other, new Float64Array(size));
    this.origin = grow(this.origin, new Uint8Array(size));
  }
}

// --- the binary value of a map record

/**
 * Rows [from, to) of `batch` (sorted by source offset), version 1:
 *   u8 version (1), varint row count n,
 *   varint source₀, varint target₀,
 *   for each next row: varint (sourceᵢ − sourceᵢ₋₁ − 1), zigzag varint (targetᵢ − targetᵢ₋₁),
 *   origins: ⌈n/8⌉ bytes, bit i set when row i's origin is "target".
 * Varints are unsigned LEB128 (exact up to 2^53). Consecutive offsets cost 2 bytes a row.
 */
function encodeRows(batch: SortedBatch, from: number, to: number): Uint8Array {
  const n = to - from;
  const out = new Uint8Array(1 + 10 + n * 20 + Math.ceil(n / 8));
  let pos = 0;
  out[pos++] = 1;
  pos = putVarint(out, pos, n);
  const { source, target, origin } = batch;
  pos = putVarint(out, pos, source[from]!);
  pos = putVarint(out, pos, target[from]!);
  for (let i = from + 1; i < to; i++) {
    pos = putVarint(out, pos, source[i]! - source[i - 1]! - 1);
    const d = target[i]! - target[i - 1]!;
    pos = putVarint(out, pos, d >= 0 ? d * 2 : -d * 2 - 1);
  }
  for (let i = 0; i < n; i++) if (origin[from + i]) out[pos + (i >> 3)]! |= 1 << (i & 7);
  pos += Math.ceil(n / 8);
  return out.subarray(0, pos);
}

function decodeRows(value: Uint8Array, rows: { source: number[]; target: number[]; origin: number[] }): void {
  if (value[0] !== 1) throw new Error(`offset-map record of version ${value[0]}: written by a newer klink; use that klink`);
  const at = { pos: 1 };
  const n = getVarint(value, at);
  let s = getVarint(value, at);
  let t = getVarint(value, at);
  const first = rows.source.length;
  rows.source.push(s);
  rows.target.push(t);
  for (let i = 1; i < n; i++) {
    s += getVarint(value, at) + 1;
    const z = getVarint(value, at);
    t += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    rows.source.push(s);
    rows.target.push(t);
  }
  for (let i = 0; i < n; i++) rows.origin[first + i] = (value[at.pos + (i >> 3)]! >> (i & 7)) & 1;
}

function putVarint(out: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80) {
    out[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[pos++] = v;
  return pos;
}

function getVarint(buf: Uint8Array, at: { pos: number }): number {
  let result = 0;
  let scale = 1;
  for (;;) {
    const b = buf[at.pos++];
    if (b === undefined) throw new Error("offset-map record ends in the middle of a row");
    result += (b & 0x7f) * scale;
    if (b < 0x80) return result;
    scale *= 0x80;
  }
}
