/** A backlog on the source for the backlog benchmarks: 1 KiB records of text-like bytes, 12 partitions. */
import { Producer } from "../src/rdkafka/index.ts";
import type { KafkaCluster } from "../test/harness/cluster.ts";
import { withAdmin, plain } from "../test/helpers.ts";

export const RECORD = 1024;
export const PARTITIONS = 12;

export async function loadBacklog(source: KafkaCluster, topic: string, records: number): Promise<void> {
  // Seeded pseudo-random letters: text-like data that lz4 compresses about 1.6x. (Identical or
  // constant records compress 100x and more, and a consumer then holds far more decompressed
  // bytes than its compressed prefetch limits say: not what a real backlog looks like.)
  const pool = Buffer.alloc(1 << 22);
  for (let i = 0, x = 7; i < pool.length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    pool[i] = 97 + (x % 26);
  }
  await writeTopic(source, topic, { records, partitions: PARTITIONS, producer: { "linger.ms": 20, "compression.type": "lz4" } }, (i) => {
    const at = (i * 1031) % (pool.length - RECORD);
    return pool.subarray(at, at + RECORD);
  });
}

/** Creates `topic` (kept forever) and writes `records` values round-robin over its partitions, waiting whenever the producer's queue is full. */
export async function writeTopic(
  source: KafkaCluster,
  topic: string,
  o: { records: number; partitions: number; producer: Record<string, string | number> },
  valueAt: (i: number) => Buffer,
): Promise<void> {
  await withAdmin(source, (a) => a.createTopics([{ name: topic, partitions: o.partitions, configs: { "retention.ms": "-1", "retention.bytes": "-1" } }]));
  const producer = new Producer(plain(source, { "batch.size": 1_048_576, ...o.producer }));
  for (let i = 0; i < o.records; i++) {
    const value = valueAt(i);
    for (;;) {
      try {
        producer.produce({ topic, partition: i % o.partitions, value });
        break;
      } catch {
        producer.poll();
        await Bun.sleep(1);
      }
    }
  }
  await producer.flush(600_000);
  await producer.close();
}
