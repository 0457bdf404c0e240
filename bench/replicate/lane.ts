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
import { copyHeads, laneStart } from "../../src/fast-lane/head-copy.ts";

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
    const start = await laneStart(lane, { topic: o.topic, partition }, from);
    if (start.kind === "refused") throw new Error(`${o.topic}[${partition}]: ${start.reason}`);
    return { partition, from, to: start.kind === "head" ? start.to : from };
  }));
  await copyHeads(o.topic, heads, {
    source: { config: { "bootstrap.servers": o.source } },
    target: { config: { "bootstrap.servers": o.target } },
    targetOffset: (partition, offset) => offset - (low[partition] ?? 0),
  });
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
