/**
 * The benchmark's two clusters, started by the test harness in the benchmark's own state dir
 * (bench/run.ts sets it): source Kafka 3.9.2 and target Kafka 4.3.1, one KRaft node each,
 * PLAINTEXT on loopback. Topics are created and deleted here, on clusters only the benchmark uses.
 */
import { ensureJars } from "../../test/harness/jars.ts";
import { startCluster, stopCluster, type KafkaCluster } from "../../test/harness/cluster.ts";
import { killStale, readClusters } from "../../test/harness/state.ts";
import { Admin, type NewTopic } from "../../src/rdkafka/index.ts";

export interface Clusters {
  source: KafkaCluster;
  target: KafkaCluster;
}

export async function startClusters(log: (s: string) => void): Promise<Clusters> {
  await killStale(() => false); // tools a crashed benchmark left behind
  await ensureJars("3.9.2");
  await ensureJars("4.3.1");
  const t = Date.now();
  const [source, target] = await Promise.all([
    startCluster({ name: "source", version: "3.9.2" }),
    startCluster({ name: "target", version: "4.3.1" }),
  ]);
  log(`clusters up in ${((Date.now() - t) / 1000).toFixed(1)} s: source Kafka ${source.version} ${source.bootstrap}, target Kafka ${target.version} ${target.bootstrap}`);
  return { source, target };
}

/** Stops every cluster recorded in the benchmark's state dir (by pid, see test/harness/state.ts). */
export async function stopClusters(): Promise<void> {
  await Promise.all(Object.values(readClusters()).map((c) => stopCluster(c)));
}

export const admin = (c: KafkaCluster) => new Admin({ "bootstrap.servers": c.bootstrap }, { timeoutMs: 30_000 });

export async function withAdmin<T>(c: KafkaCluster, fn: (a: Admin) => Promise<T>): Promise<T> {
  const a = admin(c);
  try {
    return await fn(a);
  } finally {
    a.close();
  }
}

/** Deletes the topics (those that exist) and waits until the cluster no longer lists them. */
export async function deleteTopics(c: KafkaCluster, match: (name: string) => boolean): Promise<string[]> {
  return withAdmin(c, async (a) => {
    const names = a.listTopics().map((t) => t.name).filter((n) => !n.startsWith("__") && match(n));
    if (!names.length) return [];
    await a.deleteTopics(names);
    const deadline = Date.now() + 60_000;
    while (a.listTopics().some((t) => names.includes(t.name))) {
      if (Date.now() > deadline) throw new Error(`${c.name}: topics ${names.join(", ")} still listed 60 s after deletion`);
      await Bun.sleep(100);
    }
    return names;
  });
}

/** Creates topics and waits until every partition answers ListOffsets (has a leader). */
export async function createTopics(c: KafkaCluster, topics: NewTopic[]): Promise<void> {
  await withAdmin(c, async (a) => {
    // a topic deleted a moment ago can still be in the way for a short while
    for (let attempt = 0; ; attempt++) {
      try {
        await a.createTopics(topics);
        break;
      } catch (err) {
        if (attempt >= 50 || !String((err as Error).message).match(/TOPIC_ALREADY_EXISTS|already exists|marked for deletion/i)) throw err;
        await Bun.sleep(200);
      }
    }
    const parts = topics.flatMap((t) => Array.from({ length: t.partitions }, (_, partition) => ({ topic: t.name, partition })));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ok = await a.watermarks(parts).then(() => true, () => false);
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`${c.name}: new topics ${topics.map((t) => t.name).join(", ")} have no leaders after 60 s`);
      await Bun.sleep(100);
    }
  });
}

/** Log start and end offset of every partition of `topic`, by partition number. */
export async function partitionRanges(c: KafkaCluster, topic: string, partitions: number): Promise<Array<{ low: number; high: number }>> {
  return withAdmin(c, async (a) => {
    const marks = await a.watermarks(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
    const out: Array<{ low: number; high: number }> = [];
    for (const m of marks) out[m.partition] = { low: m.low, high: m.high };
    return out;
  });
}
