/**
 * Invisible slots on the target. A broker assigns offsets, so to keep target offset == source
 * offset klink must sometimes occupy offsets without adding visible records:
 * - an aborted transaction of k records occupies k + 1 offsets (the abort marker takes one) and
 *   is never returned to read_committed readers;
 * - a committed transaction holding one record occupies 2 offsets: the record, then the commit
 *   marker (how a one-slot hole after a record is matched).
 * Both go through one transactional producer, one transaction at a time. The caller makes sure
 * nothing else is in flight to the same partition while it runs.
 */
import { Producer, KafkaError, ErrorCode, OffsetSpec, type Admin, type ConsumedMessage, type DeliveryReport } from "../rdkafka/index.ts";

import type { Cluster } from "./cluster.ts";

/** Key of filler records: compacted topics reject null keys. */
export const FILLER_KEY = "klink.filler";

export class SlotFiller {
  private readonly producer: Producer;
  private readonly landed = new Map<number, DeliveryReport>();

  /** `transactionalId` must be stable across restarts: initTransactions fences a killed predecessor. */
  constructor(target: Cluster, transactionalId: string, private readonly admin: Admin) {
    this.producer = new Producer(
      { ...target.config, "transactional.id": transactionalId, "linger.ms": 5, "message.max.bytes": 1_000_000_000 },
      { ...target.options, onDelivery: (r) => this.landed.set(r.id, r) },
    );
    this.producer.initTransactions();
  }

  /**
   * Writes `count` (>= 2) invisible slots at the end of topic[partition], which must currently
   * end at `expectedStart`. Throws if the broker placed them elsewhere.
   */
  async fillAborted(topic: string, partition: number, count: number, expectedStart: number): Promise<void> {
    if (count < 2) throw new Error(`fillAborted needs at least 2 slots, got ${count}`);
    this.landed.clear();
    this.producer.beginTransaction();
    const ids: number[] = [];
    try {
      for (let i = 0; i < count - 1; i++) {
        for (;;) {
          try {
            ids.push(this.producer.produce({ topic, partition, key: FILLER_KEY, value: null }));
            break;
          } catch (err) {
            if (!(err instanceof KafkaError) || err.code !== ErrorCode.QUEUE_FULL) throw err;
            this.producer.poll();
            await Bun.sleep(1);
          }
        }
      }
      await this.producer.flush(); // every filler must be in the log before the abort marker
      this.check(topic, partition, ids[0]!, expectedStart);
      this.check(topic, partition, ids[ids.length - 1]!, expectedStart + count - 2);
    } catch (err) {
      await this.producer.abortTransaction().catch(() => {});
      throw err;
    }
    await this.producer.abortTransaction();
    await this.waitForEnd(topic, partition, expectedStart + count);
  }

  /**
   * Writes `message` inside a transaction that commits: the record lands at `expectedOffset`, its
   * commit marker at `expectedOffset + 1`. The producer takes the message over (and frees it).
   */
  async commitWithMarker(message: ConsumedMessage, topic: string, partition: number, expectedOffset: number): Promise<void> {
    this.landed.clear();
    this.producer.beginTransaction();
    try {
      let id = 0;
      try {
        id = this.producer.forward(message, topic, partition);
      } finally {
        if (id === 0) message.destroy(); // refused: still ours
      }
      if (id === 0) throw new KafkaError(ErrorCode.QUEUE_FULL, `${topic}[${partition}]: filler producer queue full`);
      await this.producer.flush();
      this.check(topic, partition, id, expectedOffset);
    } catch (err) {
      await this.producer.abortTransaction().catch(() => {});
      throw err;
    }
    await this.producer.commitTransaction();
    await this.waitForEnd(topic, partition, expectedOffset + 2);
  }

  /**
   * The coordinator writes the transaction marker after it answers EndTxn: wait until the
   * partition's end includes it, or the next record could land before the marker.
   */
  private async waitForEnd(topic: string, partition: number, end: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      const [latest] = await this.admin.listOffsets([{ topic, partition, offset: OffsetSpec.LATEST }], false);
      if (latest!.offset >= end) {
        if (latest!.offset > end) throw new KafkaError(ErrorCode.STATE, `${topic}[${partition}]: target ends at ${latest!.offset}, beyond the expected ${end}; something else writes to this target partition`);
        return;
      }
      if (Date.now() > deadline) throw new KafkaError(ErrorCode.TIMED_OUT, `${topic}[${partition}]: transaction marker not written within ${timeoutMs / 1000} s`);
      await Bun.sleep(delay);
    }
  }

  private check(topic: string, partition: number, id: number, expected: number): void {
    const report = this.landed.get(id);
    if (!report) throw new KafkaError(ErrorCode.STATE, `${topic}[${partition}]: no delivery report for a filler`);
    if (report.error) throw report.error;
    if (report.offset !== expected) {
      throw new KafkaError(
        ErrorCode.STATE,
        `${topic}[${partition}]: target offset ${report.offset} where ${expected} was expected; something else writes to this target partition`,
      );
    }
  }

  /** See Producer.refreshMetadata: after partitions were added to `topic`. */
  refreshMetadata(topic: string): void {
    this.producer.refreshMetadata(topic);
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}
