/** Helpers of the fast lane's real-broker tests: topic pairs, a workload, a copy loop that retries as a caller must. */
import { GroupClient } from "../../src/group/index.ts";
import { BatchCopier, FastLaneError, type LanePartition } from "../../src/fast-lane/batch-copier.ts";
import { Producer, type ClientConfig } from "../../src/rdkafka/index.ts";
import type { KafkaCluster } from "../harness/cluster.ts";
import { KEEP_OLD_TIMESTAMPS, plain, source, target, uniqueName, withAdmin } from "../helpers.ts";

const clients: GroupClient[] = [];
/** Closes every protocol client the copiers opened (call in afterAll). */
export const closeClients = () => clients.forEach((c) => c.close());

export function copier(from: KafkaCluster = source(), to: KafkaCluster = target(), maxBytes = 256 * 1024, opts: Partial<ConstructorParameters<typeof BatchCopier>[2]> = {}): BatchCopier {
  const s = new GroupClient({ config: plain(from) });
  const t = new GroupClient({ config: plain(to) });
  clients.push(s, t);
  return new BatchCopier(s, t, { maxBytes, ...opts });
}

export async function topicPair(prefix: string, targetConfig: Record<string, string> = {}, from: KafkaCluster = source(), to: KafkaCluster = target(), partitions = 1): Promise<string> {
  const topic = uniqueName(prefix);
  const replicas = (c: KafkaCluster) => Math.min(3, c.brokers.length);
  await withAdmin(from, (a) => a.createTopics([{ name: topic, partitions, replicationFactor: replicas(from), configs: KEEP_OLD_TIMESTAMPS }]));
  await withAdmin(to, (a) => a.createTopics([{ name: topic, partitions, replicationFactor: replicas(to), configs: { ...KEEP_OLD_TIMESTAMPS, ...targetConfig } }]));
  return topic;
}

/** Records with keys, null values, headers and old CreateTime timestamps, in batches of the codec. */
export async function produce(topic: string, n: number, codec: string, from = 0, cluster: KafkaCluster = source(), extra: ClientConfig = {}): Promise<void> {
  const producer = new Producer(plain(cluster, { "compression.codec": codec, "linger.ms": 20, "batch.num.messages": 500, ...extra }));
  for (let i = from; i < from + n; i++) {
    producer.produce({
      topic,
      partition: 0,
      key: i % 7 === 0 ? null : `key-${i}`,
      value: i % 11 === 0 ? null : `value-${i}-${"x".repeat(i % 300)}`,
      headers: i % 3 === 0 ? [["h", `${i}`], ["empty", null]] : [],
      timestamp: 1_600_000_000_000 + i,
    });
  }
  await producer.flush();
  await producer.close();
}

/** `n` records in one committed transaction on partition 0 of the source (a transactional batch and its marker). */
export async function produceCommitted(topic: string, n: number): Promise<void> {
  const txn = new Producer(plain(source(), { "transactional.id": uniqueName(`${topic}-txn`) }));
  await txn.initTransactionsAsync();
  txn.beginTransaction();
  for (let i = 0; i < n; i++) txn.produce({ topic, partition: 0, key: `t${i}`, value: "in a transaction" });
  await txn.commitTransaction();
  await txn.close();
}

export async function end(cluster: KafkaCluster, topic: string): Promise<number> {
  return (await withAdmin(cluster, (a) => a.watermarks([{ topic, partition: 0 }])))[0]!.high;
}

/**
 * Rounds until the lane has copied up to the source's end (`until`, or the high watermark a fetch
 * reports: a new leader's may lag for a moment) or stops; retriable errors: again from where it says.
 */
export async function copyAll(lane: BatchCopier, p: LanePartition, from = 0, retries: FastLaneError[] = [], until?: number) {
  let next = from;
  for (let round = 0; round < 5000; round++) {
    try {
      const r = await lane.copyRound(p, next);
      next = r.next;
      if (r.stoppedAt || next >= (until ?? r.highWatermark)) return r;
    } catch (err) {
      if (!(err instanceof FastLaneError) || !err.retriable || retries.length >= 200) throw err;
      retries.push(err);
      next = err.resumeAt;
      await Bun.sleep(250);
    }
  }
  throw new Error("the lane did not reach the source's end in 5000 rounds");
}

