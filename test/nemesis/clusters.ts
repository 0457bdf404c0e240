/**
 * The nemesis's own source (Kafka 3.9.2) and target (4.3.1) clusters: it kills their brokers,
 * so it never runs on the shared ones. They are recorded with the harness (so `cli.ts down`
 * stops them too) under names of their own, and stopped at the end of a run.
 */
import { isAnswering, restartBroker, startCluster, stopCluster, type KafkaCluster } from "../harness/cluster.ts";
import type { Clusters } from "../link/dual-write-workload.ts";

export const NEMESIS_CLUSTERS = { source: "nemesis-source", target: "nemesis-target" } as const;

export async function startNemesisClusters(brokers: 1 | 3): Promise<Clusters> {
  const [source, target] = await Promise.allSettled([
    startCluster({ name: NEMESIS_CLUSTERS.source, version: "3.9.2", brokers }),
    startCluster({ name: NEMESIS_CLUSTERS.target, version: "4.3.1", brokers }),
  ]);
  if (source.status === "fulfilled" && target.status === "fulfilled") return { source: source.value, target: target.value };
  for (const r of [source, target]) if (r.status === "fulfilled") await stopCluster(r.value);
  throw (source.status === "rejected" ? source.reason : (target as PromiseRejectedResult).reason);
}

export async function stopNemesisClusters(c: Clusters): Promise<void> {
  await Promise.all([stopCluster(c.source), stopCluster(c.target)]);
}

/** Before a seed: a broker an earlier seed left down (its restart failed) is started again. */
export async function ensureUp(c: Clusters, log: (line: string) => void): Promise<void> {
  for (const cluster of [c.source, c.target]) {
    if (await isAnswering(cluster)) continue;
    log(`${cluster.name} does not answer: restarting its nodes`);
    for (const b of cluster.brokers) await restartNode(cluster, b.nodeId);
  }
}

/**
 * restartBroker, with patience: after kill -9 a broker recovers its logs first, and on a loaded
 * machine that can outlast the harness's 90 s; then wait up to 5 more minutes for it to answer.
 */
export async function restartNode(c: KafkaCluster, nodeId: number): Promise<void> {
  try {
    await restartBroker(c, nodeId);
  } catch (err) {
    const until = Date.now() + 300_000;
    while (!(await isAnswering(c))) {
      if (Date.now() > until) throw err;
      await Bun.sleep(2_000);
    }
  }
}
