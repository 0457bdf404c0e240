/**
 * The fast lane's copy step: fetch record batches as bytes from the source's leaders, take for
 * each partition the run of plain batches that continues it exactly (record-batch.ts), make each
 * one a batch of klink's own idempotent producer, and produce them to the target's leaders. A
 * round fetches all its partitions in one request per source leader and produces in waves: wave
 * k holds the k-th batch of every partition (Produce v3+ takes one batch per partition per
 * request), one request per target leader, up to five waves in flight on one connection (the
 * broker keeps their order and the sequence numbers prove it). Each answer must place a batch at
 * the source's base offset: anything else stops the partition, as does any batch the lane cannot
 * copy as bytes, with the reason in words (docs/fast-lane.md).
 *
 * Building block only: `klink run` does not use it yet (issue #16 item 1).
 */
import type { Connection, GroupClient } from "../group/index.ts";
import { errorName, isCoordinatorError } from "../group/errors.ts";
import { recycleFrame } from "../group/frame-pool.ts";
import { Leaders, NoLeaderError, partitionKey, type LanePartition } from "./leaders.ts";
import { Fetch, InitProducerId, Produce, type FetchedPartition, type ProducedPartition } from "./messages.ts";
import { restamp, splitBatches, whyNotPlain, type BatchView } from "./record-batch.ts";

export type { LanePartition } from "./leaders.ts";

/** Kafka's idempotent producer keeps at most five requests in flight per partition. */
const MAX_IN_FLIGHT = 5;
const READ_COMMITTED = 1;
const MAX_FETCH_BYTES = 64 * 1024 * 1024;

export interface RoundResult {
  partition: LanePartition;
  /** The source offset the partition continues from: the end of what the target acknowledged. */
  next: number;
  copiedBatches: number;
  copiedRecords: number;
  /** Bytes of the batches copied (as fetched: compressed where the source's batches are). */
  copiedBytes: number;
  /** Why the lane stopped before the fetched data ended (null: it copied all of it). */
  stoppedAt: { offset: number; reason: string } | null;
  highWatermark: number;
  /** Where a read_committed reader's partition ends: the last stable offset (the high watermark from brokers without it); -1 before a fetch answered. */
  stableEnd: number;
  /** The round failed for this partition (see FastLaneError); `next` is where to go on if retriable. */
  error: FastLaneError | null;
}

/** Errors after which the same batches, sent again with the same sequence numbers, can succeed. */
const RETRIABLE = new Set([
  "CONNECTION", "NOT_LEADER_OR_FOLLOWER", "LEADER_NOT_AVAILABLE", "UNKNOWN_TOPIC_OR_PARTITION", "REQUEST_TIMED_OUT", "NETWORK_EXCEPTION",
  "NOT_ENOUGH_REPLICAS", "NOT_ENOUGH_REPLICAS_AFTER_APPEND", "KAFKA_STORAGE_ERROR", "FENCED_LEADER_EPOCH", "UNKNOWN_LEADER_EPOCH",
]);

/**
 * A round ended early for a partition. `retriable`: a leader moved, a connection broke, a request
 * timed out: go on from `resumeAt` (the partition's sequence numbers were kept, so whatever of the
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

interface Fetched {
  records: Buffer;
  highWatermark: number;
  stableEnd: number;
}

/** A restamped batch of a round, and what became of it. */
interface Planned {
  batch: BatchView;
  records: Buffer;
  sequenceAfter: number;
  /** undefined: not answered (or not sent); null: placed where it belongs. */
  outcome?: FastLaneError | null;
}

export class BatchCopier {
  private producer: { id: bigint; epoch: number } | null = null;
  /** Per partition: the producer id its batches carry, the sequence of its next batch, and whether a batch of it landed where it should since the last failure. */
  private readonly lanes = new Map<string, { id: bigint; epoch: number; sequence: number; placed: boolean }>();
  private readonly sourceLeaders: Leaders;
  private readonly targetLeaders: Leaders;

  constructor(
    readonly source: GroupClient,
    readonly target: GroupClient,
    private readonly opts: {
      /** Per partition and fetch. */
      maxBytes?: number;
      maxWaitMs?: number;
      produceTimeoutMs?: number;
      /** Where the target must place a source offset (identity: identical offsets; the benchmark shifts). */
      targetOffset?: (p: LanePartition, sourceOffset: number) => number;
      /** The target topic of a source topic (identity; `klink bench` copies into a scratch topic of another name). */
      targetTopic?: (sourceTopic: string) => string;
      /**
       * A producer identity shared by every copier that may write these partitions (docs/workers.md,
       * "The data under the lease"): each batch's sequence is its offset minus `anchor(p)`, so the
       * batch at an offset carries the same sequence whichever copier writes it, and the target
       * refuses a late copy of one it already has. Without it: a producer id of the copier's own.
       */
      sharedProducer?: { id: bigint; epoch: number; anchor: (p: LanePartition) => number };
      /** Asked right before every Produce request (a worker's lease, docs/workers.md): false refuses the wave. */
      mayWrite?: () => boolean;
    } = {},
  ) {
    this.sourceLeaders = new Leaders(source);
    this.targetLeaders = new Leaders(target);
  }

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

  /** Fetches the record set at `offset` of one partition (read committed, as bytes); throws a FastLaneError. */
  async fetch(p: LanePartition, offset: number): Promise<Fetched> {
    const [r] = await this.fetchAll([{ partition: p, next: offset }]);
    if (r instanceof FastLaneError) throw r;
    return r!;
  }

  /** Produces one restamped batch (bytes [batch.start, batch.end) of `records`) and resolves with the offset the target gave it. */
  async produce(p: LanePartition, records: Buffer, batch: BatchView): Promise<number> {
    const planned: Planned = { batch, records, sequenceAfter: 0 };
    let offset = -1;
    await (await this.produceWave([{ p, planned }], (_, o) => (offset = o))).answered;
    if (planned.outcome) throw planned.outcome;
    return offset;
  }

  /** One round for one partition; throws its FastLaneError (with `resumeAt`). */
  async copyRound(p: LanePartition, next: number): Promise<RoundResult> {
    const [r] = await this.copyRounds([{ partition: p, next }]);
    if (r!.error) throw r!.error;
    return r!;
  }

  /**
   * One fetch for every partition (one request per source leader) and the copy of the plain
   * batches that continue each. Resolves once every batch sent was answered; a partition's
   * failure is in its result, and what of it was written is always a prefix of what was sent
   * (batches after a failed one are refused by the target for their sequence).
   */
  async copyRounds(parts: Array<{ partition: LanePartition; next: number }>): Promise<RoundResult[]> {
    const shared = this.opts.sharedProducer;
    for (const { partition, next } of parts) {
      const lane = this.lanes.get(partitionKey(partition));
      if (lane && shared) lane.sequence = sequenceAt(shared, partition, next);
      if (lane) continue;
      const { id, epoch } = shared ?? this.producer ?? (await this.initProducer());
      this.lanes.set(partitionKey(partition), { id, epoch, sequence: shared ? sequenceAt(shared, partition, next) : 0, placed: false });
    }
    const fetched = await this.fetchAll(parts);
    const results: RoundResult[] = [];
    const plans: Planned[][] = [];
    for (const [i, { partition, next }] of parts.entries()) {
      const f = fetched[i]!;
      const result: RoundResult = { partition, next, copiedBatches: 0, copiedRecords: 0, copiedBytes: 0, stoppedAt: null, highWatermark: -1, stableEnd: -1, error: null };
      results.push(result);
      const plan: Planned[] = [];
      plans.push(plan);
      if (f instanceof FastLaneError) {
        f.resumeAt = next;
        result.error = f;
        continue;
      }
      result.highWatermark = f.highWatermark;
      result.stableEnd = f.stableEnd;
      const lane = this.lanes.get(partitionKey(partition))!;
      let sequence = lane.sequence;
      let at = next;
      for (const batch of splitBatches(f.records).batches) {
        if (batch.lastOffset < at) continue; // before the position: already copied
        const reason = whyNotPlain(batch, at);
        if (reason) {
          result.stoppedAt = { offset: at, reason };
          break;
        }
        sequence = restamp(f.records, batch, lane.id, lane.epoch, sequence);
        plan.push({ batch, records: f.records, sequenceAfter: sequence });
        at = batch.lastOffset + 1;
      }
    }
    await this.sendWaves(parts.map((x) => x.partition), plans);
    for (const [i, result] of results.entries()) this.settle(result, plans[i]!);
    // every batch of the responses went out by reference in a Produce request that was answered
    // (a broker answers only once all of it arrived) or whose connection was closed: the socket
    // holds none of their bytes, so their memory serves the next responses (frame-pool.ts); each
    // response's frame is given back once
    for (const frame of new Set(fetched.flatMap((f) => (f instanceof FastLaneError ? [] : [f.records.buffer])))) recycleFrame(new Uint8Array(frame));
    return results;
  }

  /** Wave k: the k-th planned batch of every partition; a partition not yet placed sends only its first until it is. */
  private async sendWaves(partitions: LanePartition[], plans: Planned[][]): Promise<void> {
    const waves = Math.max(0, ...plans.map((p) => p.length));
    const inFlight: Array<Promise<void>> = [];
    const unplaced = partitions.filter((p) => !this.lanes.get(partitionKey(p))!.placed);
    for (let w = 0; w < waves; w++) {
      if (w === 1 && unplaced.length) await Promise.all(inFlight);
      const items = partitions.flatMap((p, i) => {
        const planned = plans[i]![w];
        if (!planned || plans[i]!.slice(0, w).some((x) => x.outcome)) return []; // failed already: the rest would be refused
        if (w > 0 && !this.lanes.get(partitionKey(p))!.placed) return [];
        return [{ p, planned }];
      });
      if (!items.length) continue;
      inFlight.push((await this.produceWave(items)).answered); // written now; answered later
      if (inFlight.length >= MAX_IN_FLIGHT) await inFlight[inFlight.length - MAX_IN_FLIGHT];
    }
    await Promise.all(inFlight);
  }

  /** Records the acknowledged prefix of a partition's plan: its next offset, sequence, and the first failure. */
  private settle(result: RoundResult, plan: Planned[]): void {
    const lane = this.lanes.get(partitionKey(result.partition))!;
    for (const planned of plan) {
      if (planned.outcome === null) {
        result.next = planned.batch.lastOffset + 1;
        result.copiedBatches++;
        result.copiedRecords += planned.batch.recordCount;
        result.copiedBytes += planned.batch.end - planned.batch.start;
        lane.sequence = planned.sequenceAfter;
        continue;
      }
      result.error = planned.outcome ?? new FastLaneError(result.partition, planned.batch.baseOffset, "CONNECTION", "not answered");
      break;
    }
    if (result.error) {
      result.error.resumeAt = result.next;
      result.stoppedAt = null;
      lane.placed = false;
    }
  }

  /** Fetches every partition from its source leader, one request per leader; per partition its records or a FastLaneError. */
  private async fetchAll(parts: Array<{ partition: LanePartition; next: number }>): Promise<Array<Fetched | FastLaneError>> {
    const out: Array<Fetched | FastLaneError> = new Array(parts.length);
    const groups = await this.byLeader(this.sourceLeaders, parts.map((x, i) => ({ p: x.partition, i })), (i, err) => (out[i] = err(parts[i]!.next)));
    const perPartition = this.opts.maxBytes ?? 1024 * 1024;
    await Promise.all([...groups].map(async ([conn, members]) => {
      try {
        const r = await conn.request(Fetch, {
          replicaId: -1,
          maxWaitMs: this.opts.maxWaitMs ?? 500,
          minBytes: 1,
          maxBytes: Math.min(MAX_FETCH_BYTES, perPartition * members.length),
          isolationLevel: READ_COMMITTED,
          sessionId: 0,
          sessionEpoch: -1, // no fetch session: every request names its partitions
          topics: byTopic(members, ({ p, i }) => ({ partition: p.partition, currentLeaderEpoch: -1, fetchOffset: parts[i]!.next, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: perPartition }))
            .map(([topic, partitions]) => ({ topic, partitions })),
          forgottenTopicsData: [],
          rackId: "",
        });
        const answers = new Map<string, FetchedPartition>();
        for (const t of r.responses) for (const x of t.partitions) answers.set(partitionKey({ topic: t.topic, partition: x.partitionIndex }), x);
        for (const { p, i } of members) {
          const a = answers.get(partitionKey(p));
          const code = r.errorCode ? errorName(r.errorCode) : a ? (a.errorCode ? errorName(a.errorCode) : null) : "NO_DATA";
          if (code) {
            this.sourceLeaders.forget(p);
            out[i] = new FastLaneError(p, parts[i]!.next, code, `the source refused the fetch: ${code}`);
          } else {
            out[i] = { records: a!.records ?? Buffer.alloc(0), highWatermark: a!.highWatermark, stableEnd: a!.lastStableOffset >= 0 ? a!.lastStableOffset : a!.highWatermark };
          }
        }
      } catch (err) {
        for (const { p, i } of members) {
          this.sourceLeaders.forget(p);
          out[i] = new FastLaneError(p, parts[i]!.next, "CONNECTION", `fetch: ${(err as Error).message}`);
        }
      }
    }));
    return out;
  }

  /**
   * Produces one batch per partition, one request per target leader; sets each batch's outcome.
   * The requests are written before this resolves (with the promise of their answers): a partition's
   * waves reach the broker in the order they were sent (looking leaders up in between, with its
   * own awaits, once let a short wave overtake a longer one: OUT_OF_ORDER_SEQUENCE_NUMBER).
   */
  private async produceWave(items: Array<{ p: LanePartition; planned: Planned }>, onOffset?: (p: LanePartition, offset: number) => void): Promise<{ answered: Promise<void> }> {
    // `p` is the target partition (leaders, the request); `source` names the batch in errors
    const indexed = items.map(({ p, planned }, i) => ({ p: { topic: this.opts.targetTopic?.(p.topic) ?? p.topic, partition: p.partition }, source: p, planned, i }));
    const groups = await this.byLeader(this.targetLeaders, indexed, (i, err) => (indexed[i]!.planned.outcome = err(indexed[i]!.planned.batch.baseOffset)));
    if (this.opts.mayWrite && !this.opts.mayWrite()) {
      for (const { source, planned } of [...groups.values()].flat()) planned.outcome = new FastLaneError(source, planned.batch.baseOffset, "LEASE", "not sent: this worker's lease on the partition ended");
      return { answered: Promise.resolve() };
    }
    const requests = [...groups].map(([conn, members]) => {
      const answer = conn.request(Produce, {
        transactionalId: null,
        acks: -1,
        timeoutMs: this.opts.produceTimeoutMs ?? 30_000,
        topicData: byTopic(members, (m) => ({ index: m.p.partition, records: m.planned.records.subarray(m.planned.batch.start, m.planned.batch.end) }))
          .map(([name, partitionData]) => ({ name, partitionData })),
      });
      return answer.then(
        (r) => {
          const answers = new Map<string, ProducedPartition>();
          for (const t of r.responses) for (const x of t.partitionResponses) answers.set(partitionKey({ topic: t.name, partition: x.index }), x);
          for (const { p, source, planned } of members) {
            const a = answers.get(partitionKey(p));
            if (a?.errorCode) this.targetLeaders.forget(p);
            planned.outcome = this.judge(source, planned.batch, a);
            if (a && onOffset) onOffset(source, a.baseOffset);
            const lane = this.lanes.get(partitionKey(source));
            if (planned.outcome === null && lane) lane.placed = true;
          }
        },
        (err) => {
          for (const { p, source, planned } of members) {
            this.targetLeaders.forget(p);
            planned.outcome = new FastLaneError(source, planned.batch.baseOffset, "CONNECTION", `produce: ${(err as Error).message}`);
          }
        },
      );
    });
    return { answered: Promise.all(requests).then(() => undefined) };
  }

  /** null when the target placed the batch where it belongs; otherwise why not. */
  private judge(p: LanePartition, batch: BatchView, a: ProducedPartition | undefined): FastLaneError | null {
    if (!a) return new FastLaneError(p, batch.baseOffset, "NO_DATA", "the target's produce response names no such partition");
    if (a.errorCode) {
      const detail = a.errorMessage ?? a.recordErrors?.[0]?.batchIndexErrorMessage ?? null;
      return new FastLaneError(p, batch.baseOffset, errorName(a.errorCode), `the target refused it: ${errorName(a.errorCode)}${detail ? ` (${detail})` : ""}`);
    }
    const expected = this.opts.targetOffset?.(p, batch.baseOffset) ?? batch.baseOffset;
    if (a.baseOffset !== expected) {
      return new FastLaneError(p, batch.baseOffset, "OFFSET_MISMATCH", `the target placed it at offset ${a.baseOffset}: the target partition does not end where the source's copy does`);
    }
    return null;
  }

  /** Groups items by their partition's leader connection; an item whose leader cannot be reached gets `fail`. */
  private async byLeader<T extends { p: LanePartition; i: number }>(leaders: Leaders, items: T[], fail: (i: number, err: (offset: number) => FastLaneError) => void): Promise<Map<Connection, T[]>> {
    const groups = new Map<Connection, T[]>();
    for (const item of items) {
      try {
        const conn = await leaders.client.connection(await leaders.of(item.p));
        const group = groups.get(conn);
        if (group) group.push(item);
        else groups.set(conn, [item]);
      } catch (err) {
        leaders.forget(item.p);
        const code = err instanceof NoLeaderError ? err.code : "CONNECTION";
        fail(item.i, (offset) => new FastLaneError(item.p, offset, code, (err as Error).message));
      }
    }
    return groups;
  }
}

/** A request's per-topic lists: `f` of each item, grouped by its partition's topic in first-seen order. */
function byTopic<T extends { p: LanePartition }, U>(items: T[], f: (item: T) => U): Array<[string, U[]]> {
  const out = new Map<string, U[]>();
  for (const item of items) {
    const list = out.get(item.p.topic);
    if (list) list.push(f(item));
    else out.set(item.p.topic, [f(item)]);
  }
  return [...out];
}

/** The sequence number of the batch at `offset` under a shared identity (Kafka's sequences wrap at 2^31). */
function sequenceAt(shared: { anchor: (p: LanePartition) => number }, p: LanePartition, offset: number): number {
  const anchor = shared.anchor(p);
  if (offset < anchor) throw new Error(`${p.topic}[${p.partition}]: offset ${offset} is before the shared producer's anchor ${anchor}`);
  return (offset - anchor) % 2 ** 31;
}
