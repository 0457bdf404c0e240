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
import { errorName } from "../group/errors.ts";
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

/** The target refused a batch or placed it elsewhere: the partition must leave the fast lane. */
export class FastLaneError extends Error {
  override name = "FastLaneError";
  constructor(
    readonly where: LanePartition,
    readonly offset: number,
    readonly code: string,
    detail: string,
  ) {
    super(`${where.topic}[${where.partition}] batch at offset ${offset}: ${detail}`);
  }
}

export class BatchCopier {
  private producer: { id: bigint; epoch: number } | null = null;
  private readonly sequences = new Map<string, number>();
  /** Each partition's leader per cluster, until a request to it fails. */
  private readonly leaders = new Map<GroupClient, Map<string, BrokerAddress>>();

  constructor(
    private readonly source: GroupClient,
    private readonly target: GroupClient,
    private readonly opts: { maxBytes?: number; maxWaitMs?: number; produceTimeoutMs?: number } = {},
  ) {}

  /** A new idempotent producer id on the target; every partition's sequence starts again at 0. */
  async initProducer(): Promise<{ id: bigint; epoch: number }> {
    const conn = await this.target.anyBroker();
    const r = await conn.request(InitProducerId, { transactionalId: null, transactionTimeoutMs: -1, producerId: -1, producerEpoch: -1 });
    if (r.errorCode) throw new Error(`InitProducerId on the target failed with ${errorName(r.errorCode)}`);
    this.producer = { id: BigInt(r.producerId), epoch: r.producerEpoch };
    this.sequences.clear();
    return this.producer;
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
   * target acknowledged every batch it produced; throws FastLaneError if one was refused or placed
   * at another offset (later batches in flight are then refused by the target for their sequence).
   */
  async copyRound(p: LanePartition, next: number): Promise<RoundResult> {
    if (!this.producer) await this.initProducer();
    const { id, epoch } = this.producer!;
    const fetched = await this.fetch(p, next);
    const { batches } = splitBatches(fetched.records);
    const key = `${p.topic}\u0000${p.partition}`;
    let sequence = this.sequences.get(key) ?? 0;
    const result: RoundResult = { next, copiedBatches: 0, copiedRecords: 0, stoppedAt: null, highWatermark: fetched.highWatermark };
    const inFlight: Array<Promise<void>> = [];
    let failure: FastLaneError | null = null;
    for (const batch of batches) {
      if (batch.lastOffset < result.next) continue; // before the position: already copied
      const reason = whyNotPlain(batch, result.next);
      if (reason) {
        result.stoppedAt = { offset: result.next, reason };
        break;
      }
      sequence = restamp(fetched.records, batch, id, epoch, sequence);
      const sent = this.produce(p, fetched.records, batch).then(
        (offset) => {
          if (offset !== batch.baseOffset) {
            throw new FastLaneError(p, batch.baseOffset, "OFFSET_MISMATCH", `the target placed it at offset ${offset}: the target partition does not end where the source's copy does`);
          }
        },
      ).catch((err) => {
        failure ??= err instanceof FastLaneError ? err : new FastLaneError(p, batch.baseOffset, "CONNECTION", String((err as Error).message ?? err));
      });
      inFlight.push(sent);
      result.next = batch.lastOffset + 1;
      result.copiedBatches++;
      result.copiedRecords += batch.recordCount;
      if (inFlight.length >= MAX_IN_FLIGHT) await inFlight.shift();
      if (failure) break;
    }
    await Promise.all(inFlight);
    if (failure) {
      this.producer = null; // its sequences are no longer known: a new producer id starts clean
      throw failure;
    }
    this.sequences.set(key, sequence);
    return result;
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
