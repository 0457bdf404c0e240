/**
 * Where the fast lane can take a partition over, and the records before that point. The lane
 * copies whole batches, so it can start only at a batch's first offset; a copy that stopped inside
 * a plain batch (another klink's exact lane let go of the partition there, or a trimmed log start)
 * has its remaining records copied one by one through librdkafka first, as the exact lane would,
 * each checked to land at its own offset (docs/fast-lane.md, "Starting inside a batch").
 */
import { Consumer, Producer } from "../rdkafka/index.ts";
import type { Cluster } from "../link/cluster.ts";
import { copyingConsumer, forwardingProducer } from "../config/copying-clients.ts";
import type { BatchCopier, LanePartition } from "./batch-copier.ts";
import { splitBatches, whyNotPlain } from "./record-batch.ts";

export type LaneStart =
  /** The lane starts at `from`: a batch begins there (or nothing follows yet). */
  | { kind: "lane"; from: number }
  /** Records [from, to) sit inside a plain batch: copy them one by one, then the lane starts at `to`. */
  | { kind: "head"; from: number; to: number }
  /** The lane cannot start here (the batch is not plain data, or offsets are missing): the exact lane must. */
  | { kind: "refused"; reason: string };

/** How a partition that must continue at `from` gets onto the fast lane. */
export async function laneStart(lane: BatchCopier, p: LanePartition, from: number): Promise<LaneStart> {
  const { records } = await lane.fetch(p, from);
  const first = splitBatches(records).batches.find((b) => b.lastOffset >= from);
  if (!first || first.baseOffset === from) return { kind: "lane", from };
  if (first.baseOffset > from) return { kind: "refused", reason: `no record at offset ${from} on the source (the next batch begins at ${first.baseOffset})` };
  const why = whyNotPlain(first, first.baseOffset);
  if (why) return { kind: "refused", reason: `offset ${from} is inside ${why}` };
  return { kind: "head", from, to: first.lastOffset + 1 };
}

export interface HeadCopyOptions {
  source: Pick<Cluster, "config"> & Partial<Pick<Cluster, "options">>;
  target: Pick<Cluster, "config"> & Partial<Pick<Cluster, "options">>;
  /** Where the target must place a source offset (identity unless the benchmark shifts). */
  targetOffset?: (partition: number, sourceOffset: number) => number;
  /** Asked before every record is handed to the producer (a worker's lease). */
  mayWrite?: () => boolean;
  /** librdkafka's message.timeout.ms for these records (a worker's: STANDBY_MESSAGE_TIMEOUT_MS). */
  messageTimeoutMs?: number;
}

/**
 * Copies each head's records [from, to) of `topic` record by record, and resolves once every one
 * is acknowledged where it belongs; throws on the first that is not (nothing after it is sent).
 */
export async function copyHeads(topic: string, heads: Array<{ partition: number; from: number; to: number }>, o: HeadCopyOptions): Promise<void> {
  const open = heads.filter((h) => h.to > h.from);
  if (!open.length) return;
  const consumer = new Consumer({ ...o.source.config, ...copyingConsumer({ maxInFlightBytes: 2 ** 26, memoryBytes: 2 ** 28 }) }, o.source.options);
  let failure: Error | null = null;
  const expected = new Map<number, { partition: number; offset: number }>();
  const producer = new Producer(
    forwardingProducer(o.target.config, o.messageTimeoutMs),
    {
      ...o.target.options,
      onDelivery: (r) => {
        const e = expected.get(r.id);
        expected.delete(r.id);
        if (!e || failure) return;
        const want = o.targetOffset?.(e.partition, e.offset) ?? e.offset;
        if (r.error) failure = new Error(`${topic}[${e.partition}] offset ${e.offset}: ${r.error.message}`);
        else if (r.offset !== want) failure = new Error(`${topic}[${e.partition}]: source offset ${e.offset} landed at target offset ${r.offset}, not ${want}: the target partition does not end where the copy does`);
      },
    },
  );
  try {
    consumer.assign(open.map((h) => ({ topic, partition: h.partition, offset: h.from })));
    const to = new Map(open.map((h) => [h.partition, h.to]));
    const left = new Set(open.map((h) => h.partition));
    while (left.size && !failure) {
      for (const m of consumer.consumeBatch(1000, 100)) {
        const end = to.get(m.partition) ?? 0;
        if (m.errorCode || m.offset >= end || failure) {
          m.destroy();
          continue;
        }
        if (o.mayWrite && !o.mayWrite()) {
          m.destroy();
          failure = new Error(`${topic}[${m.partition}]: this worker's lease ended before offset ${m.offset} was written`);
          continue;
        }
        if (m.offset === end - 1) left.delete(m.partition);
        const at = { partition: m.partition, offset: m.offset };
        let id = producer.forward(m);
        while (id === 0) {
          producer.poll(10);
          id = producer.forward(m);
        }
        expected.set(id, at);
      }
      producer.poll();
      await Bun.sleep(0);
    }
    await producer.flush();
    if (failure) throw failure;
    if (expected.size) throw new Error(`${topic}: ${expected.size} head record(s) not acknowledged by the target`);
  } finally {
    await producer.close();
    consumer.close();
  }
}
