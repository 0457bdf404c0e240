/**
 * The read fence on the target (Kafka 4.4.0): klink's leader holds group G first; consumers that
 * join G while records are being produced get an empty assignment and read nothing; then klink
 * commits offsets as a member and releases G, and the consumers start exactly there.
 * Consumers: Kafka's own VerifiableConsumer (Java, classic protocol), and this repo's librdkafka
 * binding with the range and the cooperative-sticky assignor.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { CommittedOffset } from "../../src/group/index.ts";
import { plain, target, uniqueName, withAdmin, until } from "../helpers.ts";
import { verifiableProducer, type ToolEvent } from "../harness/tools.ts";
import { groupSettings } from "./settings.ts";
import { firstOffsets, javaConsumer, produce, subscribeInBackground, targetFenceTests } from "./workload.ts";

setDefaultTimeout(240_000);

const { fences, describeTarget } = targetFenceTests();

/** Every member's assignment as the coordinator stores it: decoded, each must be empty. */
async function assignmentsSeenByCoordinator(group: string) {
  const d = await describeTarget(group);
  return { state: d.state, protocol: d.protocol, assignments: d.members.map((m) => m.assignment?.assignedPartitions) };
}

describe("fence on the target, then hand-off at committed offsets", () => {
  for (const [assignor, protocol] of [["RangeAssignor", "range"], ["CooperativeStickyAssignor", "cooperative-sticky"]] as const) {
    test(`3 Java VerifiableConsumers (classic protocol, ${assignor}): empty assignments and nothing read while fenced; after release they start at the committed offsets`, async () => {
      const topic = uniqueName("fence-java");
      const group = uniqueName("fence-java-group");
      await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 3 }]));
      // records keep arriving during the whole test
      const producer = await verifiableProducer(target(), { topic, maxMessages: 1_000_000, throughput: 300 });
      await producer.waitFor((e) => e.name === "producer_send_success", 60_000);

      const { fence, events } = await fences.hold({ settings: groupSettings(target(), "plaintext"), groupId: group, topics: [topic], protocols: ["range", "cooperative-sticky"] });
      expect(fence.state).toBe("held");
      const firstGeneration = fence.generationId;

      const consumers = await Promise.all([1, 2, 3].map(() => javaConsumer(target(), { topic, groupId: group, assignor, verbose: true })));
      await until("klink and 3 Java consumers in the group", () => fence.members.length === 4 && fence.state === "held", 90_000);
      for (const c of consumers) await c.waitFor((e) => e.name === "partitions_assigned", 30_000);

      // 10 s fenced while the producer writes
      const producedBefore = producer.collected().filter((e) => e.name === "producer_send_success").length;
      await Bun.sleep(10_000);
      const producedDuring = producer.collected().filter((e) => e.name === "producer_send_success").length - producedBefore;
      expect(producedDuring).toBeGreaterThan(1000);
      for (const c of consumers) {
        const events = c.collected();
        expect(events.filter((e) => e.name === "records_consumed" || e.name === "record_data")).toEqual([]);
        const assigned = events.filter((e) => e.name === "partitions_assigned");
        expect(assigned.length).toBeGreaterThan(0);
        for (const a of assigned) expect(a.partitions).toEqual([]);
        expect(c.proc.exitCode).toBeNull(); // the 10-byte empty assignment does not make the Java consumer throw
      }
      expect(await assignmentsSeenByCoordinator(group)).toEqual({ state: "Stable", protocol, assignments: [[], [], [], []] });

      // klink led every generation since it joined first
      expect(fence.state).toBe("held");
      expect(fence.generationId).toBeGreaterThan(firstGeneration);
      expect(events.filter((e) => e.type === "lost")).toEqual([]);
      const members = await fence.refreshMembers();
      expect(members.filter((m) => m.klink).map((m) => m.memberId)).toEqual([fence.memberId]);
      expect(members.filter((m) => !m.klink).map((m) => m.subscription?.topics)).toEqual([[topic], [topic], [topic]]);
      expect(members.filter((m) => !m.klink).every((m) => m.clientId?.startsWith("consumer-") && m.clientHost?.includes("127.0.0.1"))).toBe(true);

      // commit a different offset per partition, below what was written, and hand over
      const highest = new Map<number, number>();
      const offsets: CommittedOffset[] = [0, 1, 2].map((partition) => ({ topic, partition, offset: 100 + 37 * partition }));
      // The producer's sticky partitioner fills partitions unevenly: wait until each holds enough.
      const enough = () => {
        for (const e of producer.collected()) if (e.name === "producer_send_success") highest.set(e.partition, Math.max(highest.get(e.partition) ?? -1, e.offset));
        return offsets.every((o) => (highest.get(o.partition) ?? -1) > o.offset + 50);
      };
      await until("every partition written past the offsets to commit", enough, 60_000);
      for (const o of offsets) expect(highest.get(o.partition)!).toBeGreaterThan(o.offset + 50);
      await fence.commit(offsets);
      expect((await fence.committed()).map(({ topic, partition, offset }) => ({ topic, partition, offset }))).toEqual(offsets);

      const released = Date.now();
      await fence.release();
      expect(fence.state).toBe("released");

      const firstRecord = new Map<number, ToolEvent>();
      await until("records from all 3 partitions after release", () => {
          for (const c of consumers)
            for (const e of c.collected())
              if (e.name === "record_data" && (!firstRecord.has(e.partition) || e.offset < firstRecord.get(e.partition)!.offset)) firstRecord.set(e.partition, e);
          return firstRecord.size === 3;
        }, 60_000);
      expect(Object.fromEntries([...firstRecord].map(([p, e]) => [p, e.offset]))).toEqual({ 0: 100, 1: 137, 2: 174 });
      const firstAt = Math.min(...[...firstRecord.values()].map((e) => e.timestamp as number));
      console.log(`Java consumers (${assignor}): first record ${firstAt - released} ms after release(), all partitions within ${Math.max(...[...firstRecord.values()].map((e) => e.timestamp)) - released} ms`);
      await Promise.all([...consumers, producer].map((t) => t.stop()));
    });
  }

  for (const strategy of ["range", "cooperative-sticky"]) {
    test(`a librdkafka consumer (partition.assignment.strategy=${strategy}) reads nothing while fenced, then starts at the committed offsets`, async () => {
      const topic = uniqueName(`fence-rdkafka-${strategy}`);
      const group = uniqueName("fence-rdkafka-group");
      await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 2 }]));
      await produce(plain(target()), topic, 2, 100);

      const { fence, events } = await fences.hold({ settings: groupSettings(target(), "plaintext"), groupId: group, topics: [topic], protocols: ["range", "cooperative-sticky"] });
      const member = subscribeInBackground(plain(target(), { "group.id": group, "partition.assignment.strategy": strategy, "client.id": `rdkafka-${strategy}` }), topic);
      try {
        await until("the librdkafka consumer in the group", () => fence.members.length === 2 && fence.state === "held", 60_000);
        expect(fence.protocol).toBe(strategy);
        await produce(plain(target()), topic, 2, 100); // written while fenced
        await Bun.sleep(8_000);
        expect(member.records).toEqual([]);
        expect(member.errors).toEqual([]);
        expect(member.consumer.assignment()).toEqual([]);
        expect(await assignmentsSeenByCoordinator(group)).toEqual({ state: "Stable", protocol: strategy, assignments: [[], []] });
        expect(events.filter((e) => e.type === "lost")).toEqual([]);

        await fence.commit([{ topic, partition: 0, offset: 30 }, { topic, partition: 1, offset: 155 }]);
        const released = Date.now();
        await fence.release();
        await until("records from both partitions", () => new Set(member.records.map((r) => r.partition)).size === 2, 60_000);
        expect(firstOffsets(member.records)).toEqual({ 0: 30, 1: 155 });
        console.log(`librdkafka ${strategy}: first record ${Math.min(...member.records.map((r) => r.at)) - released} ms after release()`);
        await until("the rest of both partitions", () => member.records.length === 170 + 45, 30_000);
        expect(member.records.length).toBe(170 + 45); // 200 per partition, from 30 and 155: nothing skipped, nothing twice
      } finally {
        await member.close();
      }
    });
  }
});
