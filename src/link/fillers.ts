/**
 * Invisible slots on one target partition (docs/offsets.md). A broker assigns offsets, so to keep
 * target offset == source offset klink occupies some offsets without adding visible records:
 * filler records inside a transaction that aborts (k fillers and the abort marker: k + 1 offsets,
 * never returned to read_committed readers), and, as a last resort, a record inside a transaction
 * that commits (the record, then its commit marker).
 *
 * One transactional producer per partition, its transactional id derived from the link and the
 * partition, so that each partition's open transaction is its own: a restarted klink decides
 * where a killed one's open transaction ends (initTransactions aborts it: its marker lands at the
 * partition's end at that moment, which klink makes a hole slot). The caller makes sure nothing
 * else is in flight to the partition while a marker or filler is written.
 */
import { Producer, KafkaError, ErrorCode, OffsetSpec, type Admin, type ConsumedMessage, type DeliveryReport } from "../rdkafka/index.ts";
import type { Cluster } from "./cluster.ts";

/** Key of filler records: compacted topics reject null keys. */
export const FILLER_KEY = "klink.filler";

/** A filler transaction may stay open until a later hole; the broker's default maximum. */
const TRANSACTION_TIMEOUT_MS = 900_000;

export function fillerTransactionalId(linkName: string, topic: string, partition: number): string {
  return `klink-${linkName}-${topic}-${partition}`;
}

export class PartitionFillers {
  private readonly landed = new Map<number, DeliveryReport>();
  /** A transaction of this producer is open on the partition. */
  inTransaction = false;

  private constructor(
    private readonly producer: Producer,
    private readonly admin: Admin,
    readonly topic: string,
    readonly partition: number,
  ) {}

  /**
   * The partition's transactional producer. Opening it aborts a transaction a killed klink left
   * open on the partition: the abort marker lands at the partition's end, `end`, which must be a
   * hole slot; it waits until the marker is in the log when `staleAt` is given.
   */
  static async open(target: Cluster, linkName: string, admin: Admin, topic: string, partition: number, staleAt?: number): Promise<PartitionFillers> {
    const make = (timeoutMs: number) => {
      const fillers: PartitionFillers = new PartitionFillers(
        new Producer(
          { ...target.config, "transactional.id": fillerTransactionalId(linkName, topic, partition), "transaction.timeout.ms": timeoutMs, "linger.ms": 5, "message.max.bytes": 1_000_000_000 },
          { ...target.options, onDelivery: (r) => fillers.landed.set(r.id, r) },
        ),
        admin, topic, partition,
      );
      return fillers;
    };
    let fillers = make(TRANSACTION_TIMEOUT_MS);
    try {
      await fillers.producer.initTransactionsAsync();
    } catch (err) {
      await fillers.producer.close().catch(() => {});
      // A target whose transaction.max.timeout.ms is below 15 minutes: take its default.
      if (!(err instanceof KafkaError) || err.codeName !== "INVALID_TRANSACTION_TIMEOUT") throw err;
      fillers = make(60_000);
      await fillers.producer.initTransactionsAsync();
    }
    if (staleAt !== undefined) await fillers.waitForEnd(staleAt + 1);
    return fillers;
  }

  /**
   * Writes `count` filler records at the partition's end, which must be `expectedStart`, inside
   * the open transaction (a new one if none is open). Throws if the broker placed them elsewhere.
   */
  async addFillers(count: number, expectedStart: number): Promise<void> {
    if (count === 0) return;
    this.landed.clear();
    if (!this.inTransaction) {
      this.producer.beginTransaction();
      this.inTransaction = true;
    }
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      for (;;) {
        try {
          ids.push(this.producer.produce({ topic: this.topic, partition: this.partition, key: FILLER_KEY, value: null }));
          break;
        } catch (err) {
          if (!(err instanceof KafkaError) || err.code !== ErrorCode.QUEUE_FULL) throw err;
          this.producer.poll();
          await Bun.sleep(1);
        }
      }
    }
    await this.producer.flush(); // every filler must be in the log before anything after it
    this.check(ids[0]!, expectedStart);
    this.check(ids[ids.length - 1]!, expectedStart + count - 1);
  }

  /** Aborts the open transaction: its marker lands at `expectedMarker`. */
  async abort(expectedMarker: number): Promise<void> {
    await this.producer.abortTransaction();
    this.inTransaction = false;
    await this.waitForEnd(expectedMarker + 1);
  }

  /** Aborts the open transaction wherever the partition ends now (dual write: offsets differ anyway). */
  async abortAnywhere(): Promise<void> {
    await this.producer.abortTransaction();
    this.inTransaction = false;
  }

  /**
   * Writes `message` inside a transaction that commits: the record lands at `expectedOffset`, its
   * commit marker at `expectedOffset + 1`. The producer takes the message over (and frees it).
   */
  async commitRecord(message: ConsumedMessage, expectedOffset: number): Promise<void> {
    this.landed.clear();
    this.producer.beginTransaction();
    this.inTransaction = true;
    try {
      let id = 0;
      try {
        id = this.producer.forward(message, this.topic, this.partition);
      } finally {
        if (id === 0) message.destroy(); // refused: still ours
      }
      if (id === 0) throw new KafkaError(ErrorCode.QUEUE_FULL, `${this.where}: filler producer queue full`);
      await this.producer.flush();
      this.check(id, expectedOffset);
    } catch (err) {
      await this.producer.abortTransaction().catch(() => {});
      this.inTransaction = false;
      throw err;
    }
    await this.producer.commitTransaction();
    this.inTransaction = false;
    await this.waitForEnd(expectedOffset + 2);
  }

  private get where(): string {
    return `${this.topic}[${this.partition}]`;
  }

  /**
   * The coordinator writes a transaction marker after it answers EndTxn: wait until the
   * partition's end includes it, or the next record could land before the marker.
   */
  private async waitForEnd(end: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      const [latest] = await this.admin.listOffsets([{ topic: this.topic, partition: this.partition, offset: OffsetSpec.LATEST }], false);
      if (latest!.offset >= end) {
        if (latest!.offset > end) throw new KafkaError(ErrorCode.STATE, `${this.where}: target ends at ${latest!.offset}, beyond the expected ${end}; something else writes to this target partition`);
        return;
      }
      if (Date.now() > deadline) throw new KafkaError(ErrorCode.TIMED_OUT, `${this.where}: transaction marker not written within ${timeoutMs / 1000} s`);
      await Bun.sleep(delay);
    }
  }

  private check(id: number, expected: number): void {
    const report = this.landed.get(id);
    if (!report) throw new KafkaError(ErrorCode.STATE, `${this.where}: no delivery report for a filler`);
    if (report.error) throw report.error;
    if (report.offset !== expected) {
      throw new KafkaError(ErrorCode.STATE, `${this.where}: target offset ${report.offset} where ${expected} was expected; something else writes to this target partition`);
    }
  }

  /** See Producer.refreshMetadata. */
  refreshMetadata(): void {
    this.producer.refreshMetadata(this.topic);
  }

  /** Closes the producer; an open transaction stays open (a restart ends it at a hole slot). */
  async close(): Promise<void> {
    await this.producer.close();
  }
}
