/**
 * Why klink must offer the assignor names the group's members use: the coordinator refuses a
 * member that shares no protocol (assignor) name with the group (INCONSISTENT_GROUP_PROTOCOL,
 * fatal for the Java consumer), and the same member joins the fence once klink offers its name.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
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

describe("klink's fence joining a group another member leads", () => {
  test("a librdkafka cooperative-sticky leader does not crash on klink's subscription (it needs ownedPartitions, version 1)", async () => {
    const topic = uniqueName("coop-led");
    const group = uniqueName("coop-led-group");
    await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 2 }]));
    const proc = Bun.spawn([process.execPath, join(import.meta.dir, "coop-consumer.ts"), target().bootstrap, group, topic, "cooperative-sticky"], { stdout: "pipe", stderr: "pipe" });
    let out = "";
    void (async () => {
      for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) out += new TextDecoder().decode(chunk);
    })();
    try {
      await until("the consumer leads the group and owns both partitions", () => out.includes("assigned 2"), 60_000);
      // klink's fence joins as a follower: the consumer, the leader, runs its assignor over klink's subscription
      let outcome = "";
      void fences.hold({ settings: groupSettings(target(), "plaintext"), groupId: group, topics: [topic], protocols: ["range", "cooperative-sticky"] })
        .then((h) => (outcome = `held (${h.fence.state})`), (err) => (outcome = `refused: ${(err as Error).message}`));
      const dead = () => proc.exitCode !== null || proc.signalCode !== null;
      await until("klink's fence got its answer (or the consumer died)", () => dead() || outcome !== "", 60_000);
      await Bun.sleep(3_000); // the rebalances klink's join and leave started are over
      expect({ exitCode: proc.exitCode, signal: proc.signalCode }).toEqual({ exitCode: null, signal: null });
      expect(outcome).toContain("is not the group's leader");
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
  });
});

