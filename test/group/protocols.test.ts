/**
 * Why klink must offer the assignor names the group's members use: the coordinator refuses a
 * member that shares no protocol (assignor) name with the group (INCONSISTENT_GROUP_PROTOCOL,
 * fatal for the Java consumer), and the same member joins the fence once klink offers its name.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { plain, target, uniqueName, withAdmin, until } from "../helpers.ts";
import { stopAllTools } from "../harness/tools.ts";
import { groupSettings } from "./settings.ts";
import { fenceKeeper, javaConsumer, subscribeInBackground } from "./workload.ts";

setDefaultTimeout(180_000);

const fences = fenceKeeper();
afterAll(async () => {
  fences.closeAll();
  await stopAllTools();
});

const INCONSISTENT_GROUP_PROTOCOL = 23;

async function fencedTopic(prefix: string, protocols: string[]) {
  const topic = uniqueName(prefix);
  const group = uniqueName(`${prefix}-group`);
  await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 2 }]));
  const held = await fences.hold({ settings: groupSettings(target(), "plaintext"), groupId: group, topics: [topic], protocols });
  return { topic, group, ...held };
}

describe("assignor names", () => {
  test("a Java consumer offering only roundrobin is refused when klink offers range and cooperative-sticky", async () => {
    const { topic, group, fence } = await fencedTopic("proto-refused", ["range", "cooperative-sticky"]);
    const generation = fence.generationId;
    const consumer = await javaConsumer(target(), { topic, groupId: group, assignor: "RoundRobinAssignor" });
    // the consumer gives up: VerifiableConsumer logs the error and shuts down
    await consumer.waitFor((e) => e.name === "shutdown_complete", 60_000);
    expect(consumer.stderr()).toContain("InconsistentGroupProtocolException");
    expect(consumer.collected().filter((e) => e.name === "partitions_assigned")).toEqual([]);
    // the fence is untouched
    expect(fence.state).toBe("held");
    expect(fence.generationId).toBe(generation);
    expect(fence.members).toHaveLength(1);
  });

  test("a librdkafka consumer offering only roundrobin gets INCONSISTENT_GROUP_PROTOCOL too", async () => {
    const { topic, group, fence } = await fencedTopic("proto-refused-rdkafka", ["range", "cooperative-sticky"]);
    const member = subscribeInBackground(plain(target(), { "group.id": group, "partition.assignment.strategy": "roundrobin" }), topic);
    try {
      await until("INCONSISTENT_GROUP_PROTOCOL from librdkafka", () => member.errors.includes(INCONSISTENT_GROUP_PROTOCOL), 60_000);
      expect(fence.members).toHaveLength(1);
    } finally {
      await member.close();
    }
  });

  test("offering roundrobin as well lets the same consumers in, with empty assignments", async () => {
    const { topic, group, fence } = await fencedTopic("proto-accepted", ["range", "cooperative-sticky", "roundrobin"]);
    const java = await javaConsumer(target(), { topic, groupId: group, assignor: "RoundRobinAssignor" });
    const rdkafka = subscribeInBackground(plain(target(), { "group.id": group, "partition.assignment.strategy": "roundrobin" }), topic);
    try {
      await until("both consumers in the fenced group", () => fence.members.length === 3 && fence.state === "held", 90_000);
      const assigned = await java.waitFor((e) => e.name === "partitions_assigned", 30_000);
      expect(assigned.partitions).toEqual([]);
      // the only name every member offers
      expect(fence.protocol).toBe("roundrobin");
      expect(rdkafka.errors).toEqual([]);
      expect(java.stderr()).not.toContain("InconsistentGroupProtocolException");
    } finally {
      await rdkafka.close();
      await java.stop();
    }
  });
});
