/**
 * Leaders crash under the fast lane: on the 3-broker cluster ("three", `cli.ts up --three`) the
 * leader of the partition being copied is killed (SIGKILL) mid-copy, once on the source side and
 * once on the target side. The lane must find the new leader and continue from what the target
 * acknowledged, with the same sequence numbers, so that nothing is lost, nothing written twice
 * and every offset stays identical: read back from both clusters with librdkafka consumers.
 */
import { afterAll, expect, test } from "bun:test";
import type { FastLaneError } from "../../src/fast-lane/batch-copier.ts";
import { killBroker, restartBroker, type KafkaCluster } from "../harness/cluster.ts";
import { getCluster } from "../harness/state.ts";
import { source, target, until, withAdmin } from "../helpers.ts";
import { exactDifferences } from "../link/exact-check.ts";
import { closeClients, copier, copyAll, end, produce, topicPair } from "./lane-helpers.ts";

afterAll(closeClients);

const RECORDS = 30_000;

async function leaderOf(c: KafkaCluster, topic: string): Promise<number> {
  const [d] = await withAdmin(c, (a) => a.describeTopics([topic]));
  const leader = d?.partitions[0]?.leader;
  if (!leader) throw new Error(`${topic}[0] has no leader on ${c.name}`);
  return leader.id;
}

async function copyWhileLeaderDies(from: KafkaCluster, to: KafkaCluster, dies: KafkaCluster): Promise<void> {
  const topic = await topicPair("lane-leader-kill", { "min.insync.replicas": "2" }, from, to);
  // the source is written while the lane copies (a thousand records every 300 ms, idempotent, so
  // its own retries across the kill add no duplicates), so the lane is mid-copy when the leader dies
  const writing = (async () => {
    for (let at = 0; at < RECORDS; at += 1000) {
      await produce(topic, 1000, "lz4", at, from, { "batch.num.messages": 100, acks: "all", "enable.idempotence": true });
      await Bun.sleep(300);
    }
  })();
  const lane = copier(from, to, 64 * 1024);
  const retries: FastLaneError[] = [];
  const copying = copyAll(lane, { topic, partition: 0 }, 0, retries, RECORDS);
  let killed: number | null = null;
  try {
    // (a topic just created may not be known to every broker yet: asked again)
    await until("a tenth of the records on the target", async () => (await end(to, topic).catch(() => 0)) >= RECORDS / 10, 60_000);
    killed = await leaderOf(dies, topic);
    await killBroker(dies, killed, "SIGKILL");
    await writing;
    const r = await copying;
    expect(r.stoppedAt).toBeNull();
    expect(r.next).toBe(RECORDS);
  } finally {
    await Promise.allSettled([writing, copying]);
    if (killed !== null) await restartBroker(dies, killed);
  }
  console.log(`leader ${killed} of ${dies.name} killed: ${retries.length} retried round(s): ${[...new Set(retries.map((e) => e.code))].join(", ")}`);
  expect(retries.length).toBeGreaterThan(0); // the kill did hit the copy
  expect(await exactDifferences(from, to, topic, 1)).toEqual([]);
}

test("the target partition's leader is killed mid-copy: the copy ends identical", async () => {
  const three = getCluster("three");
  await copyWhileLeaderDies(source(), three, three);
}, 300_000);

test("the source partition's leader is killed mid-copy: the copy ends identical", async () => {
  const three = getCluster("three");
  await copyWhileLeaderDies(three, target(), three);
}, 300_000);
