/**
 * What status says about linked groups (issue 13, item 7): members refreshed in every state (also
 * after the handoff), members told apart when they share a client id and host, and the handoff's
 * delay counted from when the source's coordinator saw the group empty, not from klink's poll.
 * The oracle is the test's own admin client's DescribeGroups and its own clock around a LeaveGroup.
 */
import { test, expect, afterAll } from "bun:test";
import { Consumer, Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import type { KafkaCluster } from "../harness/cluster.ts";
import { writeMigration, KlinkRun, stopAllKlinks, statusWhenRunning } from "../link/klink-process.ts";

afterAll(stopAllKlinks);

const isoTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A librdkafka group member that keeps polling (so it stays in the group) until closed. */
function member(cluster: KafkaCluster, topic: string, group: string, clientId: string) {
  const consumer = new Consumer(plain(cluster, { "group.id": group, "client.id": clientId, "auto.offset.reset": "earliest", "enable.auto.commit": "false" }));
  consumer.subscribe([topic]);
  let on = true;
  const polling = (async () => {
    while (on) for (const m of await consumer.consume(100, 100)) m.destroy();
  })();
  return {
    consumer,
    /** Leaves the group; resolves once the LeaveGroup was answered (librdkafka's close waits for it). */
    close: async () => {
      on = false;
      await polling;
      consumer.close();
    },
  };
}

async function seed(topic: string, records: number): Promise<void> {
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 2 }]));
  const p = new Producer(plain(source(), { "linger.ms": 5 }));
  for (let i = 0; i < records; i++) p.produce({ topic, partition: i % 2, value: `v${i}` });
  await p.flush();
  await p.close();
}

async function groupStatus(file: string, until: (g: any) => boolean, what: string, run: KlinkRun): Promise<any> {
  let g: any = null;
  for (let i = 0; i < 150; i++) {
    g = (await statusWhenRunning(file)).groups?.[0];
    if (g && until(g)) return g;
    await Bun.sleep(200);
  }
  throw new Error(`${what} not seen in status; last: ${JSON.stringify(g)}\n${run.summary()}`);
}

/** Members as the target's coordinator lists them, in status's form. */
async function membersOn(cluster: KafkaCluster, group: string): Promise<string[]> {
  const [d] = await withAdmin(cluster, (a) => a.describeConsumerGroups([group]));
  return d!.members.map((m) => `${m.clientId}@${m.host} #${m.memberId.slice(-8)}`).sort();
}

test("after the handoff of a group empty before klink started, status follows its members on the target, told apart", async () => {
  const topic = uniqueName("gstatus");
  const group = uniqueName("group");
  await seed(topic, 100);
  // Offsets committed on the source, no member: the group is empty before klink starts.
  await withAdmin(source(), (a) => a.alterConsumerGroupOffsets(group, [0, 1].map((partition) => ({ topic, partition, offset: 10 }))));
  const file = writeMigration({ topics: [topic], linkName: uniqueName("gstatus"), extra: `groups:\n  names: [${group}]\ncutover:\n  plugin: auto\n  options: { promote: false }\n` });
  const run = new KlinkRun(file);
  const members: Array<ReturnType<typeof member>> = [];
  try {
    // the state turns handed-off first; the detail gets the pause once the group is guarded on the source
    const handedOff = await groupStatus(file, (g) => g.state === "handed-off" && g.detail !== "handed off", "the handoff and its pause", run);

    // Three members on the target with the same client id and host (as Java clients named alike are).
    for (let i = 0; i < 3; i++) members.push(member(target(), topic, group, "same-app"));
    const three = await groupStatus(file, (g) => g.targetMembers === 3, "3 members on the target", run);
    expect(three.targetClients.sort()).toEqual(await membersOn(target(), group));
    expect(new Set(three.targetClients).size).toBe(3);
    expect(three.sourceMembers).toBe(0); // klink's own guard on the source is not counted

    await members.pop()!.close();
    await members.pop()!.close();
    const one = await groupStatus(file, (g) => g.targetMembers === 1, "1 member left on the target", run);
    expect(one.targetClients).toEqual(await membersOn(target(), group));
    await members.pop()!.close();
    const none = await groupStatus(file, (g) => g.targetMembers === 0, "no member on the target", run);
    expect(none.targetClients).toEqual([]);

    // It had no member on the source while klink ran: no delay "after its last member left".
    expect(handedOff.detail).not.toContain("after its last source member left");
    expect(handedOff.detail).toContain("had no member on the source when klink started");
    expect(handedOff.handedOffAt).toMatch(isoTime);
    expect(handedOff.lastPauseMs ?? null).toBeNull();
  } finally {
    for (const m of members) await m.close();
    await run.stop();
  }
}, 300_000);

test("the handoff delay counts from when the source's coordinator saw the last member leave", async () => {
  const topic = uniqueName("gdelay");
  const group = uniqueName("group");
  await seed(topic, 100);
  const onSource = member(source(), topic, group, "app");
  // Committed offsets while it is a member (klink fences only groups with committed offsets).
  for (let i = 0; i < 100; i++) {
    try {
      onSource.consumer.commit([0, 1].map((partition) => ({ topic, partition, offset: 5 })));
      break;
    } catch {
      await Bun.sleep(200); // not joined yet
    }
  }
  const file = writeMigration({ topics: [topic], linkName: uniqueName("gdelay"), extra: `groups:\n  names: [${group}]\ncutover:\n  plugin: auto\n  options: { promote: false }\n` });
  const run = new KlinkRun(file);
  try {
    await groupStatus(file, (g) => g.state === "fenced" && g.sourceMembers === 1, "the group fenced, 1 member on the source", run);
    const leaving = Date.now();
    await onSource.close();
    const left = Date.now();
    const g = await groupStatus(file, (x) => x.state === "handed-off" && x.lastPauseMs != null, "the handoff and its pause", run);
    expect(g.emptiedAt).toMatch(isoTime);
    const emptyAt = Date.parse(g.emptiedAt);
    expect(emptyAt).toBeGreaterThanOrEqual(leaving);
    expect(emptyAt).toBeLessThanOrEqual(left);
    expect(g.lastPauseMs).toBe(Date.parse(g.handedOffAt) - emptyAt);
    expect(g.detail).toContain(`handed off ${g.lastPauseMs} ms after the source's coordinator saw its last member leave`);
    console.log(`left between ${new Date(leaving).toISOString()} and ${new Date(left).toISOString()}; status: ${g.detail}`);
  } finally {
    await onSource.close();
    await run.stop();
  }
}, 300_000);
