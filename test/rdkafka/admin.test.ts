import { test, expect, afterAll } from "bun:test";
import { Producer, Consumer, Offset, OffsetSpec, AlterConfigOp, KafkaError } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin, until } from "../helpers.ts";
import { KEEP_OLD_TIMESTAMPS } from "../helpers.ts";
import { verifiableConsumer, stopAllTools } from "../harness/tools.ts";

afterAll(() => stopAllTools());

async function produceN(bootstrapCluster: ReturnType<typeof source>, topic: string, n: number, ts?: (i: number) => number) {
  const p = new Producer(plain(bootstrapCluster, { "linger.ms": 5 }));
  for (let i = 0; i < n; i++) p.produce({ topic, partition: 0, value: `v${i}`, timestamp: ts?.(i) });
  await p.flush();
  await p.close();
}

for (const which of ["source", "target"] as const) {
  const cluster = which === "source" ? source : target;

  test(`${which}: create topic with configs → describe configs, create partitions → describe topics, alter config`, async () => {
    const topic = uniqueName("admin-cfg");
    await withAdmin(cluster(), async (admin) => {
      await admin.createTopics([{ name: topic, partitions: 2, configs: { "cleanup.policy": "compact", "retention.ms": "3600000" } }]);
      const configs = await admin.describeTopicConfigs(topic);
      const get = (n: string) => configs.find((c) => c.name === n);
      expect(get("cleanup.policy")).toMatchObject({ value: "compact", source: "DYNAMIC_TOPIC", isDefault: false });
      expect(get("retention.ms")?.value).toBe("3600000");
      expect(get("segment.bytes")?.isDefault).toBe(true);

      await admin.incrementalAlterTopicConfigs(topic, [
        { name: "retention.ms", op: AlterConfigOp.DELETE },
        { name: "cleanup.policy", op: AlterConfigOp.SET, value: "compact,delete" },
      ]);
      // The broker applies a config change from the metadata log a moment after it answered.
      let after = await admin.describeTopicConfigs(topic);
      await until("the altered config", async () => ((after = await admin.describeTopicConfigs(topic)), after.find((c) => c.name === "cleanup.policy")?.value === "compact,delete"), 30_000);
      expect(after.find((c) => c.name === "cleanup.policy")?.value).toBe("compact,delete");
      expect(after.find((c) => c.name === "retention.ms")?.isDefault).toBe(true);

      await admin.createPartitions([{ topic, totalCount: 5 }]);
      let [desc] = await admin.describeTopics([topic]);
      await until("the new partitions", async () => (([desc] = await admin.describeTopics([topic])), desc!.partitions.length === 5 && desc!.partitions.every((p) => p.leader)), 30_000);
      expect(desc!.name).toBe(topic);
      expect(desc!.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3, 4]);
      expect(desc!.partitions[0]!.leader).not.toBeNull();
      expect(desc!.partitions[0]!.isr.length).toBeGreaterThan(0);

      // A second create gives the broker's error, with its code name.
      const err = await admin.createTopics([{ name: topic, partitions: 1 }]).catch((e) => e);
      expect(err).toBeInstanceOf(KafkaError);
      expect(err.codeName).toBe("TOPIC_ALREADY_EXISTS");
      expect(err.message).toContain(topic);

      await admin.deleteTopics([topic]);
      let gone = await admin.describeTopics([topic]).catch((e) => e);
      await until("the deleted topic to go", async () => ((gone = await admin.describeTopics([topic]).catch((e) => e)), gone instanceof KafkaError), 30_000);
      expect(gone).toBeInstanceOf(KafkaError);
      expect(gone.codeName).toBe("UNKNOWN_TOPIC_OR_PART");
    });
  }, 60_000);

  test(`${which}: describe cluster names the broker, the controller and the cluster id`, async () => {
    const c = cluster();
    const desc = await withAdmin(c, (a) => a.describeCluster());
    expect(desc.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(desc.nodes.map((n) => `${n.host}:${n.port}`).sort()).toEqual(c.brokers.map((b) => `127.0.0.1:${b.port}`).sort());
  }, 60_000);

  test(`${which}: DeleteRecords moves the log start offset that ListOffsets(earliest) reports; ListOffsets by timestamp`, async () => {
    const topic = uniqueName("admin-offsets");
    await withAdmin(cluster(), async (admin) => {
      await admin.createTopics([{ name: topic, partitions: 1, configs: KEEP_OLD_TIMESTAMPS }]);
      await produceN(cluster(), topic, 1000, (i) => 1_650_000_000_000 + i * 1000);
      expect(await admin.watermarks([{ topic, partition: 0 }])).toEqual([{ topic, partition: 0, low: 0, high: 1000 }]);

      const deleted = await admin.deleteRecords([{ topic, partition: 0, offset: 250 }]);
      expect(deleted[0]).toMatchObject({ topic, partition: 0, offset: 250 });
      const [earliest] = await admin.listOffsets([{ topic, partition: 0, offset: OffsetSpec.EARLIEST }]);
      expect(earliest!.offset).toBe(250);

      // Record i has timestamp base + i s: the first offset at or after base + 700.5 s is 701.
      const [byTime] = await admin.listOffsets([{ topic, partition: 0, offset: 1_650_000_000_000 + 700_500 }]);
      expect(byTime).toMatchObject({ offset: 701, timestamp: 1_650_000_000_000 + 701_000 });
      const [maxTs] = await admin.listOffsets([{ topic, partition: 0, offset: OffsetSpec.MAX_TIMESTAMP }]);
      expect(maxTs).toMatchObject({ offset: 999, timestamp: 1_650_000_000_000 + 999_000 });
      const [future] = await admin.listOffsets([{ topic, partition: 0, offset: 1_650_000_000_000 + 5_000_000 }]);
      expect(future!.offset).toBe(-1);
    });
  }, 60_000);
}

test("alter group offsets → list group offsets, and Kafka's VerifiableConsumer resumes from them", async () => {
  const c = target();
  const topic = uniqueName("admin-group");
  const group = uniqueName("group");
  await withAdmin(c, async (admin) => {
    await admin.createTopics([{ name: topic, partitions: 1 }]);
    await produceN(c, topic, 1000);
    await admin.alterConsumerGroupOffsets(group, [{ topic, partition: 0, offset: 600 }]);
    expect(await admin.listConsumerGroupOffsets(group)).toMatchObject([{ topic, partition: 0, offset: 600, error: 0 }]);
    const listed = await admin.listConsumerGroups();
    expect(listed.find((g) => g.groupId === group)).toMatchObject({ state: "Empty" });

    const vc = await verifiableConsumer(c, { topic, groupId: group, maxMessages: 400 });
    const consumed = await vc.waitFor((e) => e.name === "records_consumed", 90_000);
    expect(consumed.partitions[0]).toMatchObject({ topic, partition: 0, minOffset: 600 });
    // While it runs, the group shows one member with its assignment.
    const [desc] = await admin.describeConsumerGroups([group]);
    expect(desc!.groupId).toBe(group);
    await vc.waitFor((e) => e.name === "shutdown_complete", 90_000).catch(() => {});
    await vc.stop();
    expect(["Stable", "Empty", "PreparingRebalance", "CompletingRebalance"]).toContain(desc!.state);

    await admin.deleteConsumerGroupOffsets(group, [{ topic, partition: 0 }]);
    const after = await admin.listConsumerGroupOffsets(group, [{ topic, partition: 0 }]);
    expect(after[0]!.offset).toBe(Offset.INVALID);
  });
}, 180_000);

test("describe consumer groups lists members with client id, host, assignment and the assignor", async () => {
  const c = source();
  const topic = uniqueName("admin-members");
  const group = uniqueName("group");
  await withAdmin(c, (a) => a.createTopics([{ name: topic, partitions: 2 }]));
  const consumer = new Consumer(plain(c, { "group.id": group, "client.id": "klink-test-member", "partition.assignment.strategy": "roundrobin" }));
  try {
    consumer.subscribe([topic]);
    const deadline = Date.now() + 60_000;
    let desc;
    do {
      for (const m of await consumer.consume(10, 200)) m.destroy();
      [desc] = await withAdmin(c, (a) => a.describeConsumerGroups([group]));
    } while (desc!.state !== "Stable" && Date.now() < deadline);
    expect(desc).toMatchObject({ groupId: group, state: "Stable", partitionAssignor: "roundrobin", isSimple: false });
    expect(desc!.members).toHaveLength(1);
    expect(desc!.members[0]).toMatchObject({ clientId: "klink-test-member", host: expect.stringContaining("127.0.0.1") });
    expect(desc!.members[0]!.assignment.sort((a, b) => a.partition - b.partition)).toEqual([
      { topic, partition: 0 },
      { topic, partition: 1 },
    ]);
  } finally {
    consumer.close();
  }
}, 90_000);
