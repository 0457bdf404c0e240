/**
 * A Kafka Streams group cannot be held by the read fence (its assignor cannot take an empty
 * assignment): `klink run` reports it as drain-then-switch, as `klink plan` does, instead of
 * fencing it on the target. The Streams member is played by klink's own group-protocol client,
 * joined on the source with the assignor name Kafka Streams uses ("stream").
 */
import { test, expect, afterAll } from "bun:test";
import { Producer } from "../../src/rdkafka/index.ts";
import { GroupFence } from "../../src/group/index.ts";
import { source, plain, uniqueName, withAdmin } from "../helpers.ts";
import { writeMigration, KlinkRun, stopAllKlinks, statusWhenRunning } from "./klink-process.ts";

afterAll(stopAllKlinks);

test("a Kafka Streams group is reported as drain-then-switch, not fenced", async () => {
  const topic = uniqueName("streams-in");
  const group = uniqueName("streams-app");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  const p = new Producer(plain(source()));
  for (let i = 0; i < 10; i++) p.produce({ topic, partition: 0, value: `v${i}` });
  await p.flush();
  await p.close();
  // The "Streams application": a member on the source with assignor "stream" and committed offsets.
  const member = await GroupFence.hold({ settings: { config: plain(source()) }, groupId: group, topics: [topic], protocols: ["stream"] });
  try {
    await member.commit([{ topic, partition: 0, offset: 5 }]);
    const file = writeMigration({ topics: [topic], linkName: uniqueName("streams"), extra: `groups:\n  names: [${group}]\n` });
    const klink = new KlinkRun(file);
    let groups: Array<{ group: string; state: string; detail: string }> = [];
    for (let i = 0; i < 100; i++) {
      groups = (await statusWhenRunning(file)).groups;
      if (groups.length && groups[0]!.state !== "watching") break;
      await Bun.sleep(300);
    }
    await klink.stop();
    expect(groups).toMatchObject([{ group, state: "drain-then-switch" }]);
    expect(groups[0]!.detail).toContain("Kafka Streams");
  } finally {
    await member.release().catch(() => {});
  }
}, 120_000);
