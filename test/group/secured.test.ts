/**
 * The read fence over the source's secured listeners (Kafka 3.9.2, whose classic group
 * coordinator differs from 4.x's): SASL_SSL SCRAM with the same settings a librdkafka consumer
 * uses, and OAUTHBEARER with tokens that expire every few seconds while klink holds the group.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { plain, source, uniqueName, withAdmin, until } from "../helpers.ts";
import { groupSettings, unsecuredJwt } from "./settings.ts";
import { fenceKeeper, firstOffsets, produce, subscribeInBackground } from "./workload.ts";

setDefaultTimeout(180_000);

const fences = fenceKeeper();
afterAll(() => fences.closeAll());

async function topicWithRecords(prefix: string): Promise<{ topic: string; group: string }> {
  const topic = uniqueName(prefix);
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 2 }]));
  await produce(plain(source()), topic, 2, 40);
  return { topic, group: uniqueName(`${prefix}-group`) };
}

describe("fence on Kafka 3.9.2 over secured listeners", () => {
  test("SASL_SSL SCRAM-SHA-512: a librdkafka consumer with the very same settings is fenced, then starts at the committed offsets", async () => {
    const { topic, group } = await topicWithRecords("secured-scram");
    const settings = groupSettings(source(), "scram-sha-512");
    const { fence, events } = await fences.hold({ settings, groupId: group, topics: [topic], protocols: ["range", "roundrobin"] });
    const member = subscribeInBackground({ ...settings.config, "group.id": group }, topic);
    try {
      await until("the consumer in the group", () => fence.members.length === 2 && fence.state === "held", 60_000);
      await Bun.sleep(5_000);
      expect(member.records).toEqual([]);
      expect(member.errors).toEqual([]);
      await fence.commit([{ topic, partition: 0, offset: 7 }, { topic, partition: 1, offset: 33 }]);
      await fence.release();
      await until("both partitions read after release", () => new Set(member.records.map((r) => r.partition)).size === 2, 60_000);
      expect(firstOffsets(member.records)).toEqual({ 0: 7, 1: 33 });
      expect(events.filter((e) => e.type === "lost" || e.type === "error")).toEqual([]);
    } finally {
      await member.close();
    }
  });

  test("OAUTHBEARER with 5 s tokens: klink holds the group for 15 s across many session ends, then hands it over", async () => {
    const { topic, group } = await topicWithRecords("secured-oauth");
    let tokens = 0;
    const settings = {
      config: { "bootstrap.servers": source().security!.oauthBootstrap, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "OAUTHBEARER" },
      token: async () => {
        tokens++;
        return unsecuredJwt("admin", 5);
      },
    };
    const { fence, events } = await fences.hold({ settings, groupId: group, topics: [topic], protocols: ["range"], heartbeatIntervalMs: 1_000 });
    const member = subscribeInBackground(plain(source(), { "group.id": group }), topic);
    try {
      await until("the consumer in the group", () => fence.members.length === 2 && fence.state === "held", 60_000);
      const generation = fence.generationId;
      await Bun.sleep(15_000);
      expect(fence.state).toBe("held");
      expect(fence.generationId).toBe(generation); // no heartbeat was missed: no rebalance
      expect(events.filter((e) => e.type === "lost" || e.type === "error")).toEqual([]);
      expect(tokens).toBeGreaterThanOrEqual(4); // a new session at 80% of each 5 s token
      expect(member.records).toEqual([]);
      await fence.commit([{ topic, partition: 0, offset: 12 }, { topic, partition: 1, offset: 0 }]);
      await fence.release();
      await until("both partitions read after release", () => new Set(member.records.map((r) => r.partition)).size === 2, 60_000);
      expect(firstOffsets(member.records)).toEqual({ 0: 12, 1: 0 });
    } finally {
      await member.close();
    }
  });
});
