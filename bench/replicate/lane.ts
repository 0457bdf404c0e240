/**
 * The fast lane (src/fast-lane/) as a replicator of its own, for the benchmark's "fast lane" row:
 * each partition copied batch by batch as bytes by a BatchCopier, all partitions at once, until
 * SIGTERM. It is not `klink run` (the Fetcher does not use the lane yet): no state, no fillers.
 * The benchmark's source topics start at a log start offset above 0 (a trimmed head) and the lane
 * has no start alignment, so it writes partition p's offset o at target offset o - sourceLow[p]
 * and checks exactly that, like the pipe copies as is. The trimmed head starts inside a batch,
 * which cannot be copied as bytes: its records up to the next batch boundary go through
 * librdkafka (consumer to Producer.forward, as the exact lane would) before the lane takes over.
 *
 *   bun bench/replicate/lane.ts '{"source":"h:p","target":"h:p","topic":"t","partitions":12,"sourceLow":[0,...]}'
 */
import { GroupClient } from "../../src/group/index.ts";
import { BatchCopier } from "../../src/fast-lane/batch-copier.ts";
import { splitBatches } from "../../src/fast-lane/record-batch.ts";
import { Consumer, Producer } from "../../src/rdkafka/index.ts";
import { copyingConsumer, FORWARD_PRODUCER } from "../../src/config/copying-clients.ts";

interface LaneOptions {
  source: string;
  target: string;
  topic: string;
  partitions: number;
  sourceLow?: number[];
}

const o = JSON.parse(process.argv[2] ?? "{}") as LaneOptions;
const source = new GroupClient({ config: { "bootstrap.servers": o.source } });
const target = new GroupClient({ config: { "bootstrap.servers": o.target } });
const low = o.sourceLow ?? [];
const lane = new BatchCopier(source, target, { maxBytes: 1024 * 1024, targetOffset: (p, offset) => offset - (low[p.partition] ?? 0) });

let stopping = false;
process.on("SIGTERM", () => (stopping = true));
process.on("SIGINT", () => (stopping = true));

/** The first batch boundary at or after `from`: where the lane can start. */
async function boundary(partition: number, from: number): Promise<number> {
  const { records } = await lane.fetch({ topic: o.topic, partition }, from);
  const first = splitBatches(records).batches.find((b) => b.lastOffset >= from);
  return !first || first.baseOffset >= from ? from : first.lastOffset + 1;
}

/** Copies each partition's [from, to) record by record through librdkafka, and waits for every acknowledgement. */
async function copyHeads(heads: Array<{ partition: number; from: number; to: number }>): Promise<void> {
  const open = heads.filter((h) => h.to > h.from);
  if (!open.length) return;
  const consumer = new Consumer({ "bootstrap.servers": o.source, ...copyingConsumer({ maxInFlightBytes: 2 ** 26, memoryBytes: 2 ** 28 }) });
  let failed = 0;
  const producer = new Producer({ "bootstrap.servers": o.target, ...FORWARD_PRODUCER }, { onDelivery: (r) => r.error && failed++ });
  try {
    consumer.assign(open.map((h) => ({ topic: o.topic, partition: h.partition, offset: h.from })));
    const to = new Map(open.map((h) => [h.partition, h.to]));
    const left = new Set(open.map((h) => h.partition));
    while (left.size) {
      for (const m of consumer.consumeBatch(1000, 100)) {
        const end = to.get(m.partition) ?? 0;
        if (m.errorCode || m.offset >= end) {
          m.destroy();
          continue;
        }
        if (m.offset === end - 1) left.delete(m.partition);
        while (producer.forward(m) === 0) producer.poll(10);
      }
      producer.poll();
      await Bun.sleep(0);
    }
    await producer.flush();
    if (failed) throw new Error(`${failed} head record(s) not acknowledged by the target`);
  } finally {
    await producer.close();
    consumer.close();
  }
}

/** All partitions in rounds (one fetch per source leader each); retriable failures go on from where they say. */
async function copyAll(from: Array<{ partition: number; next: number }>): Promise<void> {
  let parts = from.map(({ partition, next }) => ({ partition: { topic: o.topic, partition }, next }));
  while (!stopping) {
    const results = await lane.copyRounds(parts);
    for (const r of results) {
      if (r.error && !r.error.retriable) throw r.error;
      if (r.stoppedAt) throw new Error(`${o.topic}[${r.partition.partition}] left the fast lane at offset ${r.stoppedAt.offset}: ${r.stoppedAt.reason}`);
    }
    if (results.some((r) => r.error)) await Bun.sleep(100);
    parts = results.map((r) => ({ partition: r.partition, next: r.next }));
  }
}

async function run(): Promise<void> {
  const partitions = Array.from({ length: o.partitions }, (_, p) => p);
  const heads = await Promise.all(partitions.map(async (partition) => {
    const from = low[partition] ?? 0;
    return { partition, from, to: await boundary(partition, from) };
  }));
  await copyHeads(heads);
  await copyAll(heads.map((h) => ({ partition: h.partition, next: h.to })));
}

let code = 0;
await run().catch((err) => {
  console.error(`lane: ${(err as Error).message}`);
  code = 1;
});
source.close();
target.close();
process.exit(code);
