/**
 * Reads of partitions' records (readRanges) asked at about the same time, for the same topic of the
 * same cluster, served by one consumer. A restart checks the tail of every partition it resumes
 * (reconcile.ts, findDivergence); one consumer per partition made resuming 1,000 partitions take
 * 86 s, most of it creating and closing librdkafka clients (bench/partitions.ts).
 */
import type { Cluster } from "./cluster.ts";
import { readRanges, type Digest, type ReadMode } from "./verify.ts";

/** How long a read waits for others to join it. */
const GATHER_MS = 20;

type Range = { partition: number; from: number; to: number; max?: number };

interface Batch {
  ranges: Map<number, { range: Range; done: (found: Digest[]) => void; failed: (err: unknown) => void }>;
}

export class CoalescedReads {
  private readonly gathering = new Map<Cluster, Map<string, Batch>>();

  /** The records of one partition's range, as readRanges reads them. */
  read(cluster: Cluster, topic: string, range: Range, mode: ReadMode = "committed"): Promise<Digest[]> {
    let byKey = this.gathering.get(cluster);
    if (!byKey) this.gathering.set(cluster, (byKey = new Map()));
    const key = `${mode}\u0000${topic}`;
    let batch = byKey.get(key);
    if (!batch || batch.ranges.has(range.partition)) {
      // A second read of a partition goes into the next batch: one range per partition in a read.
      const started: Batch = (batch = { ranges: new Map() });
      byKey.set(key, started);
      setTimeout(() => {
        if (byKey!.get(key) === started) byKey!.delete(key);
        void this.serve(cluster, topic, mode, started);
      }, GATHER_MS);
    }
    const b = batch;
    return new Promise((done, failed) => b.ranges.set(range.partition, { range, done, failed }));
  }

  private async serve(cluster: Cluster, topic: string, mode: ReadMode, batch: Batch): Promise<void> {
    const asked = [...batch.ranges.values()];
    try {
      const found = await readRanges(cluster, topic, asked.map((a) => a.range), mode);
      for (const a of asked) a.done(found.get(a.range.partition)!);
    } catch (err) {
      for (const a of asked) a.failed(err);
    }
  }
}
