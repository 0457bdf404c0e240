/**
 * An admin request (ListOffsets) waiting for a broker that is down must not spin. librdkafka's
 * admin worker asks for a connection to the broker at each of the broker's state changes, and
 * each ask reset the reconnect backoff: an immediate attempt, refused at once, a new state change,
 * a new ask: ~30,000 attempts a second, a whole core per client until the request timed out
 * (nemesis seed 252: two of klink's admin clients spun through a 70-s source broker restart, on a
 * 2-core machine). scripts/librdkafka-patches/admin-reconnect-backoff.patch keeps the backoff.
 * The judge is the process's CPU time while the request waits (not a wall-clock limit): a spinning
 * client burns about as much CPU as time passes, a waiting one almost none. Then the broker is
 * back and the same client answers.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Admin, Offset } from "../../src/rdkafka/index.ts";
import { killBroker, restartBroker, startCluster, stopCluster, type KafkaCluster } from "../harness/cluster.ts";

let cluster: KafkaCluster | null = null;
beforeAll(async () => {
  cluster = await startCluster({ name: "admin-reconnect-backoff", version: "4.4.0" });
}, 180_000);
afterAll(async () => {
  if (cluster) await stopCluster(cluster);
}, 60_000);

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

test("ListOffsets while the partition's only broker is down: the client waits without spinning, and answers once the broker is back", async () => {
  const c = cluster!;
  const admin = new Admin({ "bootstrap.servers": c.bootstrap }, { timeoutMs: 10_000 });
  try {
    await admin.createTopics([{ name: "backoff", partitions: 1 }]);
    const ask = () => admin.listOffsets([{ topic: "backoff", partition: 0, offset: Offset.END }]);
    for (let i = 0; ; i++) {
      const ok = await ask().then(() => true, () => false); // the new topic's leader may need a moment
      if (ok) break;
      if (i === 20) throw new Error("the new topic's offsets never answered");
      await Bun.sleep(500);
    }

    await killBroker(c, c.brokers[0]!.nodeId, "SIGKILL");
    const [cpu0, t0] = [cpuSeconds(), performance.now()];
    await expect(ask()).rejects.toThrow();
    const [cpu, wall] = [cpuSeconds() - cpu0, (performance.now() - t0) / 1000];
    console.log(`ListOffsets with the broker down: ${wall.toFixed(1)} s waited, ${cpu.toFixed(2)} CPU-s used by the process`);
    expect(wall).toBeGreaterThan(5); // it did wait for the broker (the measurement covers a wait)
    expect(cpu).toBeLessThan(wall / 4); // spinning costs ~1 CPU-s per second; waiting ~0.02

    await restartBroker(c, c.brokers[0]!.nodeId);
    let answered = false;
    for (let i = 0; i < 12 && !answered; i++) answered = await ask().then(() => true, () => false);
    expect(answered).toBe(true);
  } finally {
    await admin.close();
  }
}, 240_000);
