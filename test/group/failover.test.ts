/**
 * The coordinator moves: on the 3-broker cluster ("three", Kafka 3.9.2, `cli.ts up --three`) the
 * broker that coordinates the fenced group crashes. klink must find the new coordinator and keep
 * the group, its membership and its leadership, then commit and hand over as usual.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { GroupClient } from "../../src/group/index.ts";
import { killBroker, restartBroker } from "../harness/cluster.ts";
import { getCluster } from "../harness/state.ts";
import { plain, uniqueName, withAdmin, until } from "../helpers.ts";
import { groupSettings } from "./settings.ts";
import { fenceKeeper, firstOffsets, produce, subscribeInBackground } from "./workload.ts";

setDefaultTimeout(240_000);

const fences = fenceKeeper();
const clients: GroupClient[] = [];
afterAll(() => {
  fences.closeAll();
  for (const c of clients) c.close();
});

test("the coordinator's broker crashes: klink finds the new coordinator and keeps the group fenced and led", async () => {
  const three = getCluster("three");
  const topic = uniqueName("coordinator-move");
  const group = uniqueName("coordinator-move-group");
  await withAdmin(three, (a) => a.createTopics([{ name: topic, partitions: 2, replicationFactor: 3 }]));
  await produce(plain(three, { acks: "all" }), topic, 2, 30);

  const { fence, events } = await fences.hold({ settings: groupSettings(three, "plaintext"), groupId: group, topics: [topic], protocols: ["range", "roundrobin"] });
  const member = subscribeInBackground(plain(three, { "group.id": group }), topic);
  const client = new GroupClient(groupSettings(three, "plaintext"));
  clients.push(client);
  let killed: number | null = null;
  try {
    await until("the consumer in the group", () => fence.members.length === 2 && fence.state === "held", 60_000);
    const generation = fence.generationId;
    const before = await client.coordinator(group);
    killed = three.brokers.find((b) => b.port === before.port)!.nodeId;
    const crashAt = Date.now();
    await killBroker(three, killed, "SIGKILL");

    // another broker takes over the group once the controller fences the dead one (~9 s)
    await until("a new coordinator", async () => {
      client.forgetCoordinator(group);
      return (await client.coordinator(group).catch(() => before)).port !== before.port;
    }, 90_000);
    // klink's member survived the move: it commits with its generation and member id
    await fence.commit([{ topic, partition: 0, offset: 3 }, { topic, partition: 1, offset: 4 }]);
    console.log(`coordinator move: klink committed through the new coordinator ${Date.now() - crashAt} ms after the crash`);
    await Bun.sleep(5_000); // heartbeats on the new coordinator
    expect(fence.state).toBe("held");
    expect(fence.generationId).toBe(generation);
    expect(events.filter((e) => e.type === "lost")).toEqual([]);
    expect(member.records).toEqual([]);

    await fence.release();
    await until("both partitions read after release", () => new Set(member.records.map((r) => r.partition)).size === 2, 90_000);
    expect(firstOffsets(member.records)).toEqual({ 0: 3, 1: 4 });
  } finally {
    await member.close();
    if (killed !== null) await restartBroker(three, killed);
  }
});
