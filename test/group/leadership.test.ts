/**
 * Leadership of the fenced group on the target (Kafka 4.4.0): klink keeps it across the
 * rebalances members cause by joining, leaving and crashing, causes none itself, takes it back
 * after a restart with the same group.instance.id, and says so when a consumer leads instead.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { GroupFence, NotLeaderError } from "../../src/group/index.ts";
import { plain, target, uniqueName, withAdmin, until } from "../helpers.ts";
import { groupSettings } from "./settings.ts";
import { firstOffsets, javaConsumer, produce, subscribeInBackground, targetFenceTests } from "./workload.ts";

setDefaultTimeout(240_000);

const { fences, describeTarget } = targetFenceTests();

describe("leadership", () => {
  test("klink stays the leader while members join, leave and crash, and starts no rebalance itself", async () => {
    const topic = uniqueName("lead");
    const group = uniqueName("lead-group");
    await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 3 }]));
    await produce(plain(target()), topic, 3, 50);
    const { fence, events } = await fences.hold({ settings: groupSettings(target(), "plaintext"), groupId: group, topics: [topic], protocols: ["range", "cooperative-sticky"] });

    const generations: number[] = [fence.generationId];
    /** Waits for `n` members, then checks klink leads a newer generation in which every assignment is empty. */
    const expectHeld = async (n: number, step: string) => {
      await until(`${n} member(s) after: ${step}`, () => fence.members.length === n && fence.state === "held", 90_000);
      await until("a Stable group", async () => (await describeTarget(group)).state === "Stable", 30_000);
      expect(fence.generationId).toBeGreaterThan(generations.at(-1)!);
      generations.push(fence.generationId);
      const d = await describeTarget(group);
      expect(d.members.map((m) => m.memberId).sort()).toEqual(fence.members.map((m) => m.memberId).sort());
      expect(d.members.map((m) => m.assignment?.assignedPartitions)).toEqual(d.members.map(() => []));
      expect(events.filter((e) => e.type === "lost")).toEqual([]);
    };

    const a = subscribeInBackground(plain(target(), { "group.id": group, "client.id": "member-a" }), topic);
    await expectHeld(2, "a librdkafka consumer joined");
    const b = await javaConsumer(target(), { topic, groupId: group, sessionTimeoutMs: 6000, clientId: "member-b" });
    await expectHeld(3, "a Java consumer joined");
    const c = await javaConsumer(target(), { topic, groupId: group, clientId: "member-c" });
    await expectHeld(4, "a second Java consumer joined");

    // a quiet group stays in its generation: klink's heartbeats start no rebalance
    const quiet = { generation: fence.generationId, events: events.length };
    await Bun.sleep(8_000);
    expect({ generation: fence.generationId, events: events.length }).toEqual(quiet);

    await a.close(); // LeaveGroup
    await expectHeld(3, "the librdkafka consumer left");
    await b.stop("SIGKILL"); // no LeaveGroup: the coordinator drops it after its 6 s session timeout
    await expectHeld(2, "a Java consumer crashed");
    await c.stop(); // SIGTERM: closes, LeaveGroup
    await expectHeld(1, "the other Java consumer left");

    expect(a.records).toEqual([]);
    expect(b.collected().filter((e) => e.name === "records_consumed")).toEqual([]);
    expect(c.collected().filter((e) => e.name === "records_consumed")).toEqual([]);
    // one "held" per generation klink went through, and it led each of them
    const held = events.filter((e) => e.type === "held").map((e) => (e as { generationId: number }).generationId);
    for (const g of generations) expect(held).toContain(g);
    await fence.release();
  });

  test("a consumer that joined first leads: hold() says so and klink leaves the group", async () => {
    const topic = uniqueName("not-leader");
    const group = uniqueName("not-leader-group");
    await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 2 }]));
    await produce(plain(target()), topic, 2, 10);
    const first = subscribeInBackground(plain(target(), { "group.id": group }), topic);
    try {
      await until("the first consumer reading everything", () => first.records.length === 20, 60_000);
      const err = await GroupFence.hold({ settings: groupSettings(target(), "plaintext"), groupId: group, topics: [topic], protocols: ["range", "roundrobin"] }).then(
        () => null,
        (e) => e,
      );
      expect(err).toBeInstanceOf(NotLeaderError);
      expect(err.message).toContain(`group ${group}: klink (member klink-`);
      expect(err.message).toContain("is not the group's leader; rdkafka-");
      // klink left: the consumer is alone again and holds both partitions
      await until("the consumer alone in a Stable group", async () => {
        const d = await describeTarget(group);
        return d.state === "Stable" && d.members.length === 1;
      }, 60_000);
      const d = await describeTarget(group);
      expect(d.members[0]!.assignment?.assignedPartitions).toEqual([{ topic, partitions: [0, 1] }]);
    } finally {
      await first.close();
    }
  });

  test("static membership: a klink restarted with the same group.instance.id takes its place and leadership back", async () => {
    const topic = uniqueName("static");
    const group = uniqueName("static-group");
    const instance = `klink-${group}`;
    await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 2 }]));
    await produce(plain(target()), topic, 2, 50);
    const options = { settings: groupSettings(target(), "plaintext"), groupId: group, topics: [topic], protocols: ["range", "cooperative-sticky"], groupInstanceId: instance };

    const { fence: before } = await fences.hold(options);
    const member = subscribeInBackground(plain(target(), { "group.id": group }), topic);
    try {
      await until("the consumer in the group", () => before.members.length === 2 && before.state === "held", 60_000);
      const generation = before.generationId;
      before.close(); // a crash or restart: no LeaveGroup
      await Bun.sleep(2_000);

      const { fence: after, events } = await fences.hold(options);
      expect(after.memberId).not.toBe(before.memberId);
      expect(after.members.find((m) => m.klink)?.groupInstanceId).toBe(instance);
      // KIP-814: the static leader rejoining a Stable group with the same protocols does not rebalance it
      expect(after.generationId).toBe(generation);
      const d = await describeTarget(group);
      expect(d.state).toBe("Stable");
      expect(d.members.map((m) => m.groupInstanceId).sort()).toEqual([instance, null].sort());
      expect(d.members.map((m) => m.assignment?.assignedPartitions)).toEqual([[], []]);

      // still fenced: a newcomer rebalances the group, and the restarted klink leads it
      const newcomer = subscribeInBackground(plain(target(), { "group.id": group }), topic);
      try {
        await until("the newcomer in the group", () => after.members.length === 3 && after.state === "held", 60_000);
        expect(after.generationId).toBeGreaterThan(generation);
        expect(events.filter((e) => e.type === "lost")).toEqual([]);
        await Bun.sleep(3_000);
        expect(member.records).toEqual([]);
        expect(newcomer.records).toEqual([]);
        await after.commit([{ topic, partition: 0, offset: 10 }, { topic, partition: 1, offset: 20 }]);
        await after.release();
        await until("both partitions read after release", () => new Set([...member.records, ...newcomer.records].map((r) => r.partition)).size === 2, 60_000);
        expect(firstOffsets([...member.records, ...newcomer.records])).toEqual({ 0: 10, 1: 20 });
      } finally {
        await newcomer.close();
      }
    } finally {
      await member.close();
    }
  });
});
