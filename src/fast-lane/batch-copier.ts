/**
 * The fast lane's copy step for one partition: fetch record batches as bytes from the source's
 * leader, take the run of plain batches that continues the partition exactly (record-batch.ts),
 * make each one a batch of klink's own idempotent producer, and produce it to the target's leader,
 * one batch per request and up to five in flight on one connection (the broker keeps their order
 * and the sequence numbers prove it). Each answer must place the batch at the source's base
 * offset: anything else stops the partition, as does any batch the lane cannot copy as bytes, with
 * the reason in words (docs/fast-lane.md).
 *
 * Building block only: `klink run` does not use it yet (issue #16 item 1).
 */
import { Connection, GroupClient } from "../group/index.ts";
import { errorName, isCoordinatorError } from "../group/errors.ts";
import type { BrokerAddress } from "../group/settings.ts";
import { Fetch, InitProducerId, Metadata, Produce } from "./messages.ts";
import { restamp, splitBatches, whyNotPlain, type BatchView } from "./record-batch.ts";

/** Kafka's idempotent producer keeps at most five requests in flight per partition. */
const MAX_IN_FLIGHT = 5;
const READ_COMMITTED = 1;

export interface LanePartition {
  topic: string;
  partition: number;
}

export interface RoundResult {
  /** The source offset the partition continues from. */
  next: number;
  copiedBatches: number;
  copiedRecords: number;
  /** Why the lane stopped before the fetched data ended (null: it copied all of it). */
  stoppedAt: { offset: number; reason: string } | null;
  highWatermark: number;
}

/** Errors after which the same batches, sent again with the same sequence numbers, can succeed. */
const RETRIABLE = new Set([
  "CONNECTION", "NOT_LEADER_OR_FOLLOWER", "LEADER_NOT_AVAILABLE", "UNKNOWN_TOPIC_OR_PARTITION", "REQUEST_TIMED_OUT", "NETWORK_EXCEPTION",
  "NOT_ENOUGH_REPLICAS", "NOT_ENOUGH_REPLICAS_AFTER_APPEND", "KAFKA_STORAGE_ERROR", "FENCED_LEADER_EPOCH", "UNKNOWN_LEADER_EPOCH",
]);

/**
 * A round ended early. `retriable`: a leader moved, a connection broke, a request timed out: call
 * copyRound again from `resumeAt` (the partition's sequence numbers were kept, so whatever of the
 * unacknowledged batches the target did write is recognised as a duplicate, not written twice).
 * Otherwise the target refused a batch or placed it elsewhere: the partition must leave the lane.
 */
export class FastLaneError extends Error {
  override name = "FastLaneError";
  readonly retriable: boolean;
  /** The source offset to continue from: the end of what the target acknowledged. */
  resumeAt = -1;
  constructor(
    readonly where: LanePartition,
    readonly offset: number,
    readonly code: string,
    detail: string,
  ) {
    super(`${where.topic}[${where.partition}] batch at offset ${offset}: ${detail}`);
    this.retriable = RETRIABLE.has(code);
  }
}

export class BatchCopier {
  private producer: { id: bigint; epoch: number } | null = null;
  /** Per partition: the producer id its batches carry and the sequence of its next batch. */
  private readonly partitions = new Map<string, { id: bigint; epoch: number; sequence: number; placed: boolean }>();
  /** Each partition's leader per cluster, until a request to it fails. */
  private readonly leaders = new Map<GroupClient, Map<string, BrokerAddress>>();

  constructor(
    private readonly source: GroupClient,
    private readonly target: GroupClient,
    private readonly opts: {
      maxBytes?: number;
      maxWaitMs?: number;
      produceTimeoutMs?: number;
      /** Where the target must place a source offset (identity: identical offsets; the benchmark shifts). */
      targetOffset?: (p: LanePartition, sourceOffset: number) => number;
    } = {},
  ) {}

  /** A new idempotent producer id on the target, for the partitions the copier has not written yet. */
  async initProducer(): Promise<{ id: bigint; epoch: number }> {
    // a broker that is starting answers "load in progress" or "not available" for a while
    for (let attempt = 0; ; attempt++) {
      const conn = await this.target.anyBroker();
      const r = await conn.request(InitProducerId, { transactionalId: null, transactionTimeoutMs: -1, producerId: -1, producerEpoch: -1 });
      if (!r.errorCode) {
        this.producer = { id: BigInt(r.producerId), epoch: r.producerEpoch };
        return this.producer;
      }
      if (!isCoordinatorError(r.errorCode) || attempt >= 60) throw new Error(`InitProducerId on the target failed with ${errorName(r.errorCode)}`);
      await this.target.sleep(500);
    }
  }

  /** Fetches the record set at `offset` from the source's leader (read committed, as bytes). */
  async fetch(p: LanePartition, offset: number): Promise<{ records: Buffer; highWatermark: number; lastStableOffset: number }> {
    const maxBytes = this.opts.maxBytes ?? 1024 * 1024;
    const r = await this.atLeader(this.source, p, (conn) => conn.request(Fetch, {
      replicaId: -1,
      maxWaitMs: this.opts.maxWaitMs ?? 500,
      minBytes: 1,
      maxBytes,
      isolationLevel: READ_COMMITTED,
      sessionId: 0,
      sessionEpoch: -1, // no fetch session: every request names its partitions
      topics: [{ topic: p.topic, partitions: [{ partition: p.partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: maxBytes }] }],
      forgottenTopicsData: [],
      rackId: "",
    }));
    if (r.errorCode) throw new FastLaneError(p, offset, errorName(r.errorCode), `the source refused the fetch: ${errorName(r.errorCode)}`);
    const part = r.responses[0]?.partitions[0];
    if (!part) throw new FastLaneError(p, offset, "NO_DATA", "the source's fetch response names no partition");
    if (part.errorCode) {
      this.leaders.get(this.source)?.delete(`${p.topic}\u0000${p.partition}`); // NOT_LEADER_OR_FOLLOWER and the like: ask again next time
      throw new FastLaneError(p, offset, errorName(part.errorCode), `the source refused the fetch: ${errorName(part.errorCode)}`);
    }
    return { records: part.records ?? Buffer.alloc(0), highWatermark: part.highWatermark, lastStableOffset: part.lastStableOffset };
  }

  /**
   * Produces one restamped batch (bytes [batch.start, batch.end) of `records`) and resolves with
   * the offset the target gave its first record.
   */
  async produce(p: LanePartition, records: Buffer, batch: BatchView): Promise<number> {
    const r = await this.atLeader(this.target, p, (conn) => conn.request(Produce, {
      transactionalId: null,
      acks: -1,
      timeoutMs: this.opts.produceTimeoutMs ?? 30_000,
      topicData: [{ name: p.topic, partitionData: [{ index: p.partition, records: records.subarray(batch.start, batch.end) }] }],
    }));
    const part = r.responses[0]?.partitionResponses[0];
    if (!part) throw new FastLaneError(p, batch.baseOffset, "NO_DATA", "the target's produce response names no partition");
    if (part.errorCode) {
      this.leaders.get(this.target)?.delete(`${p.topic}\u0000${p.partition}`);
      const detail = part.errorMessage ?? part.recordErrors?.[0]?.batchIndexErrorMessage ?? null;
      throw new FastLaneError(p, batch.baseOffset, errorName(part.errorCode), `the target refused it: ${errorName(part.errorCode)}${detail ? ` (${detail})` : ""}`);
    }
    return part.baseOffset;
  }

  /**
   * One fetch from `next` and the copy of the plain batches that continue it. Resolves once the
   * target acknowledged every batch it produced; throws a FastLaneError when one was not (see
   * there: `retriable` and `resumeAt`). Batches sent after a failed one are refused by the target
   * for their sequence, so what is written is always a prefix of what was sent.
   */
  async copyRound(p: LanePartition, next: number): Promise<RoundResult> {
    const key = `${p.topic}\u0000${p.partition}`;
    let lane = this.partitions.get(key);
    if (!lane) {
      const { id, epoch } = this.producer ?? (await this.initProducer());
      this.partitions.set(key, (lane = { id, epoch, sequence: 0, placed: false }));
    }
    let fetched: Awaited<ReturnType<BatchCopier["fetch"]>>;
    try {
      fetched = await this.fetch(p, next);
    } catch (err) {
      throw this.failure(p, next, err, next);
    }
    const { batches } = splitBatches(fetched.records);
    const result: RoundResult = { next, copiedBatches: 0, copiedRecords: 0, stoppedAt: null, highWatermark: fetched.highWatermark };
    const sent: Array<{ batch: BatchView; sequenceAfter: number; done: Promise<unknown> }> = [];
    let sequence = lane.sequence;
    let failed = false;
    for (const batch of batches) {
      if (batch.lastOffset < result.next) continue; // before the position: already copied
      const reason = whyNotPlain(batch, result.next);
      if (reason) {
        result.stoppedAt = { offset: result.next, reason };
        break;
      }
      sequence = restamp(fetched.records, batch, lane.id, lane.epoch, sequence);
      const done = this.produce(p, fetched.records, batch).then((offset) => {
        const expected = this.opts.targetOffset?.(p, batch.baseOffset) ?? batch.baseOffset;
        if (offset !== expected) {
          throw new FastLaneError(p, batch.baseOffset, "OFFSET_MISMATCH", `the target placed it at offset ${offset}: the target partition does not end where the source's copy does`);
        }
      });
      done.catch(() => (failed = true));
      sent.push({ batch, sequenceAfter: sequence, done });
      result.next = batch.lastOffset + 1;
      result.copiedBatches++;
      result.copiedRecords += batch.recordCount;
      // until a batch of this partition landed where it should, one at a time: if the target does
      // not end where the copy does, one batch lands elsewhere, not five
      const limit = lane.placed ? MAX_IN_FLIGHT : 1;
      if (sent.length >= limit) await sent[sent.length - limit]!.done.catch(() => undefined);
      if (failed) break;
      if (!lane.placed && sent.length === 1) lane.placed = true;
    }
    // the acknowledged prefix, in order: the partition continues after it
    let acknowledged = { next, sequence: lane.sequence };
    let error: unknown = null;
    for (const s of sent) {
      try {
        await s.done;
        if (error === null) acknowledged = { next: s.batch.lastOffset + 1, sequence: s.sequenceAfter };
      } catch (err) {
        error ??= this.failure(p, s.batch.baseOffset, err, -1);
      }
    }
    lane.sequence = acknowledged.sequence;
    if (error) {
      lane.placed = false;
      (error as FastLaneError).resumeAt = acknowledged.next;
      throw error;
    }
    return result;
  }

  private failure(p: LanePartition, offset: number, err: unknown, resumeAt: number): FastLaneError {
    const e = err instanceof FastLaneError ? err : new FastLaneError(p, offset, "CONNECTION", String((err as Error).message ?? err));
    if (resumeAt >= 0) e.resumeAt = resumeAt;
    return e;
  }

  /** A request to the partition's leader on `client`; the leader is looked up again after a failure. */
  private async atLeader<T>(client: GroupClient, p: LanePartition, fn: (conn: Connection) => Promise<T>): Promise<T> {
    const key = `${p.topic}\u0000${p.partition}`;
    let known = this.leaders.get(client);
    if (!known) this.leaders.set(client, (known = new Map()));
    try {
      let address = known.get(key);
      if (!address) known.set(key, (address = await this.findLeader(client, p)));
      return await fn(await client.connection(address));
    } catch (err) {
      known.delete(key);
      throw err;
    }
  }

  private async findLeader(client: GroupClient, p: LanePartition): Promise<BrokerAddress> {
    const conn = await client.anyBroker();
    const r = await conn.request(Metadata, { topics: [{ name: p.topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false, includeClusterAuthorizedOperations: false });
    const topic = r.topics.find((t) => t.name === p.topic);
    if (!topic || topic.errorCode) throw new FastLaneError(p, -1, errorName(topic?.errorCode ?? 3), `no metadata for the topic: ${errorName(topic?.errorCode ?? 3)}`);
    const part = topic.partitions.find((x) => x.partitionIndex === p.partition);
    const broker = part && r.brokers.find((b) => b.nodeId === part.leaderId);
    if (!broker) throw new FastLaneError(p, -1, "LEADER_NOT_AVAILABLE", "the partition has no leader now");
    return { host: broker.host, port: broker.port };
  }
}
