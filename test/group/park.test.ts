/**
 * Parking (GroupFence option parkMs) on the target (Kafka 4.4.0): members that join a fenced group
 * wait inside JoinGroup, read nothing, and are answered as soon as klink commits and releases the
 * group; when parkMs passes first, klink rejoins in time and keeps the group.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { plain, target, uniqueName, withAdmin, until } from "../helpers.ts";
import type { ToolEvent } from "../harness/tools.ts";
import { groupSettings } from "./settings.ts";
import { firstOffsets, javaConsumer, produce, subscribeInBackground, targetFenceTests } from "./workload.ts";

setDefaultTimeout(240_000);

const { fences, describeTarget } = targetFenceTests();

describe("parking", () => {
  test("a Java and a librdkafka member wait in JoinGroup while fenced, read nothing, and start at the committed offsets when klink releases the group", async () => {
    const topic = uniqueName("park");
    const group = uniqueName("park-group");
    await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 2 }]));
    await produce(plain(target()), topic, 2, 200);

    const { fence, events } = await fences.hold({ settings: groupSettings(target(), "plaintext"), groupId: group, topics: [topic], protocols: ["range", "cooperative-sticky"], parkMs: 40_000 });
    const java = await javaConsumer(target(), { topic, groupId: group, verbose: true });
    const rdkafka = subscribeInBackground(plain(target(), { "group.id": group, "partition.assignment.strategy": "range", "client.id": "rdkafka-parked" }), topic);
    try {
      // both joined: the coordinator lists them, the group waits for klink, klink parks
      await until("klink parked with both members joined", async () => fence.parked && (await describeTarget(group)).members.length === 3, 60_000);
      await produce(plain(target()), topic, 2, 100); // written while they wait
      await Bun.sleep(5_000);
      const d = await describeTarget(group);
      expect(d.state).toBe("PreparingRebalance");
      expect(fence.state).toBe("held");
      expect(fence.parked).toBe(true);
      // no assignment at all yet: they are inside JoinGroup, not holding an empty assignment
      expect(java.collected().filter((e) => e.name === "partitions_assigned" || e.name === "records_consumed")).toEqual([]);
      expect(rdkafka.consumer.assignment()).toEqual([]);
      expect(rdkafka.records).toEqual([]);

      // a commit is accepted while the group waits (no rejoin needed), then the release wakes them
      const generation = fence.generationId;
      await fence.commit([{ topic, partition: 0, offset: 40 }, { topic, partition: 1, offset: 250 }]);
      expect(fence.generationId).toBe(generation);
      expect(fence.parked).toBe(true);
      const released = Date.now();
      await fence.release();

      const firstJava = new Map<number, ToolEvent>();
      await until("both partitions read after release", () => {
          for (const e of java.collected()) if (e.name === "record_data" && !firstJava.has(e.partition)) firstJava.set(e.partition, e);
          return firstJava.size + new Set(rdkafka.records.map((r) => r.partition)).size === 2;
        }, 60_000);
      const first = { ...firstOffsets(rdkafka.records), ...Object.fromEntries([...firstJava].map(([p, e]) => [p, e.offset])) };
      expect(first).toEqual({ 0: 40, 1: 250 });
      const firstAt = Math.min(...rdkafka.records.map((r) => r.at), ...[...firstJava.values()].map((e) => e.timestamp as number));
      console.log(`parked members: first record ${firstAt - released} ms after release() (one Java, one librdkafka range member)`);
      expect(events.filter((e) => e.type === "lost")).toEqual([]);
      expect(events.some((e) => e.type === "parked")).toBe(true);
    } finally {
      await rdkafka.close();
      await java.stop();
    }
  });

  test("when parkMs passes, klink rejoins in time: the group settles with empty assignments and klink still leads", async () => {
    const topic = uniqueName("park-limit");
    const group = uniqueName("park-limit-group");
    await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 2 }]));
    await produce(plain(target()), topic, 2, 50);

    const { fence, events } = await fences.hold({ settings: groupSettings(target(), "plaintext"), groupId: group, topics: [topic], protocols: ["range"], parkMs: 6_000 });
    const firstGeneration = fence.generationId;
    const member = subscribeInBackground(plain(target(), { "group.id": group, "partition.assignment.strategy": "range" }), topic);
    try {
      await until("klink parked", () => fence.parked, 30_000);
      await until("klink rejoined after parkMs", () => !fence.parked && fence.state === "held" && fence.members.length === 2, 30_000);
      expect(fence.generationId).toBeGreaterThan(firstGeneration);
      await until("the group stable", async () => (await describeTarget(group)).state === "Stable", 30_000);
      await Bun.sleep(3_000);
      expect(member.records).toEqual([]);
      expect(member.consumer.assignment()).toEqual([]);
      expect(events.filter((e) => e.type === "lost")).toEqual([]);

      // and the fence still hands over
      await fence.commit([{ topic, partition: 0, offset: 10 }, { topic, partition: 1, offset: 20 }]);
      await fence.release();
      await until("records from both partitions", () => new Set(member.records.map((r) => r.partition)).size === 2, 60_000);
      expect(firstOffsets(member.records)).toEqual({ 0: 10, 1: 20 });
    } finally {
      await member.close();
    }
  });
});
