/**
 * Producers moved to the target before klink copied anything there (nemesis seed 20): klink
 * created the target topic, its partition did not start (here: refused by offsets: exact and
 * link.prefixFillLimit), and producers wrote to the new target topic. The next run must route
 * those records to the source (dual write): they were acknowledged, and consumers still on the
 * source must see them. Judged by reading both clusters with the test's own consumer.
 */
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin, until } from "../helpers.ts";
import { klink, writeMigration, KlinkRun, stopAllKlinks } from "./klink-process.ts";
import { readTopic } from "./dual-write-workload.ts";
import type { KafkaCluster } from "../harness/cluster.ts";

afterAll(stopAllKlinks);

async function produce(cluster: KafkaCluster, topic: string, values: string[]): Promise<void> {
  const producer = new Producer(plain(cluster, { "enable.idempotence": true }));
  for (const v of values) producer.produce({ topic, partition: 0, key: v, value: v });
  await producer.flush();
  await producer.close();
}

const values = async (cluster: KafkaCluster, topic: string) => (await readTopic(cluster, topic)).map((r) => r.value!.toString());

test("records producers wrote to a target topic klink created, before it copied anything, reach the source", async () => {
  const topic = uniqueName("producer-first");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  const sourceValues = Array.from({ length: 30 }, (_, i) => `s${i}`);
  await produce(source(), topic, sourceValues);
  await withAdmin(source(), (a) => a.deleteRecords([{ topic, partition: 0, offset: 20 }]));

  // First run: creates the target topic, then refuses the partition (20 fillers > prefixFillLimit 5).
  const file = writeMigration({ topics: [topic], linkName: uniqueName("producer-first"), offsets: "exact" });
  writeFileSync(file, readFileSync(file, "utf8").replace("  offsets: exact", "  offsets: exact\n  prefixFillLimit: 5"));
  const first = new KlinkRun(file);
  await until("the target topic's creation", async () => first.output.includes("not copied"), 120_000, first);
  await first.stop();
  expect(first.output).toContain("target topic created");

  // Producers move to the target (the new topic is there) and write.
  const targetValues = Array.from({ length: 40 }, (_, i) => `t${i}`);
  await produce(target(), topic, targetValues);

  // The operator allows translate mode and runs again. plan says what run will do.
  writeFileSync(file, readFileSync(file, "utf8").replace("offsets: exact", "offsets: auto"));
  const plan = await klink(["plan", file]);

  const second = new KlinkRun(file);
  try {
    const wanted = [...sourceValues.slice(20), ...targetValues];
    await until("every record on both clusters", async () => {
      const [s, t] = await Promise.all([values(source(), topic), values(target(), topic)]);
      return wanted.every((v) => s.includes(v) && t.includes(v));
    }, 120_000, second);
    const [s, t] = await Promise.all([values(source(), topic), values(target(), topic)]);
    // Each record once on each cluster, in its producer's order.
    for (const side of [s, t]) {
      expect(side.filter((v) => v.startsWith("s"))).toEqual(sourceValues.slice(20));
      expect(side.filter((v) => v.startsWith("t"))).toEqual(targetValues);
    }
    expect(second.output).toContain("dual-write");
    expect(plan.stdout).toContain("producer data");
    expect(plan.stdout).toContain("routes those records to the source");
  } finally {
    await second.stop();
  }
}, 300_000);
