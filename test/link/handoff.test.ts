/**
 * Consumer group handoff against real brokers: a group of Kafka's VerifiableConsumer (Java,
 * classic protocol) moves one member at a time from the source to the target while a producer
 * writes. Members on the target read nothing until the last one has left the source; then klink
 * copies the group's offsets and they go on: no record consumed twice, none skipped.
 */
import { test, expect, afterAll } from "bun:test";
import { Producer, Consumer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin, until } from "../helpers.ts";
import { describeGroup, GroupClient } from "../../src/group/index.ts";
import { verifiableConsumer, stopAllTools, type VerifiableTool, type ToolEvent } from "../harness/tools.ts";
import type { KafkaCluster } from "../harness/cluster.ts";
import { writeMigration, spawnKlink, klink, steadyProducer, movingProducer, caughtUp, runInBackground } from "./klink-process.ts";
import { oldSource } from "../old-sources/expected.ts";

const running = new Set<ReturnType<typeof spawnKlink>>();
afterAll(async () => {
  for (const p of running) p.kill("SIGKILL");
  await stopAllTools();
});

/** Per partition, the [min, max] offset ranges a consumer reported, with when it reported them. */
type Range = { partition: number; min: number; max: number; at: number; who: string };

function ranges(who: string, events: ToolEvent[]): Range[] {
  return events
    .filter((e) => e.name === "records_consumed")
    .flatMap((e) => (e.partitions as Array<{ partition: number; minOffset: number; maxOffset: number }>).map((p) => ({ partition: p.partition, min: p.minOffset, max: p.maxOffset, at: e.at as number, who })));
}

/** Collects events with arrival times (VerifiableConsumer's own timestamps are its clock, not ours). */
function timed(tool: VerifiableTool): ToolEvent[] {
  const events: ToolEvent[] = [];
  void (async () => {
    for await (const e of tool.events) events.push({ ...e, at: Date.now() });
  })();
  return events;
}

// "fast": link.fastLane copies the topic as record batches until the handoff needs it on the exact lane
for (const lane of ["exact", "fast"] as const) {
test(`a VerifiableConsumer group moves member by member to the target: fenced until the last leaves the source, then no record twice, none skipped${lane === "fast" ? " (link.fastLane: the topic on the fast lane)" : ""}`, async () => {
  const topic = uniqueName("handoff");
  const group = uniqueName("group");
  const partitions = 3;
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions, replicationFactor: source().brokers.length, configs: { "retention.ms": "-1" } }]));
  const file = writeMigration({ topics: [topic], linkName: uniqueName("handoff"), extra: `groups:\n  names: [${group}]\n`, linkExtra: lane === "fast" ? "  fastLane: true\n" : "" });
  const producer = steadyProducer(source(), topic, partitions);

  // The group reads on the source first (it must have committed offsets for klink to fence it).
  const onSource: Array<{ tool: VerifiableTool; events: ToolEvent[] }> = [];
  for (let i = 0; i < 3; i++) {
    const tool = await verifiableConsumer(source(), { topic, groupId: group, groupProtocol: "classic" });
    onSource.push({ tool, events: timed(tool) });
  }
  await onSource[0]!.tool.waitFor((e) => e.name === "offsets_committed", 60_000);

  const proc = spawnKlink(["run", file]);
  running.add(proc);
  let status: any = null;
  for (let i = 0; i < 150 && status?.groups?.[0]?.state !== "fenced"; i++) {
    await Bun.sleep(200);
    const r = await klink(["status", file, "--json"]);
    if (r.code === 0) status = JSON.parse(r.stdout);
  }
  expect(status?.groups?.[0]).toMatchObject({ group, state: "fenced", sourceMembers: 3 });
  expect(status.groups[0].sourceClients).toHaveLength(3);
  for (let i = 0; i < 50 && !status.groups[0].committed; i++) {
    await Bun.sleep(200);
    status = JSON.parse((await klink(["status", file, "--json"])).stdout);
  }
  expect(status.groups[0].committed).toMatchObject({ cluster: "source" });
  expect(status.groups[0].committed.offsets).toHaveLength(partitions);
  if (lane === "fast") {
    // the handoff starts while the fast lane copies the topic
    for (let i = 0; i < 100 && !status.partitions.some((p: { lane?: string }) => p.lane === "fast"); i++) {
      await Bun.sleep(200);
      status = JSON.parse((await klink(["status", file, "--json"])).stdout);
    }
    expect(status.partitions.filter((p: { lane?: string }) => p.lane === "fast").length).toBeGreaterThan(0);
  }
  expect((await klink(["handoff", file, group])).code).toBe(0); // cutover/manual: the operator's go

  // Move the members one at a time.
  const onTarget: Array<{ tool: VerifiableTool; events: ToolEvent[] }> = [];
  let lastLeftSource = 0;
  for (let i = 0; i < 3; i++) {
    await Bun.sleep(3_000);
    await onSource[i]!.tool.stop(); // graceful: commits what it consumed
    lastLeftSource = Date.now();
    const tool = await verifiableConsumer(target(), { topic, groupId: group, groupProtocol: "classic" });
    onTarget.push({ tool, events: timed(tool) });
  }
  // All three on the target now: after the handoff they read.
  await onTarget[0]!.tool.waitFor((e) => e.name === "records_consumed", 60_000).catch(() => null);
  // A member started on the source again by mistake reads nothing: klink holds the group there now
  // (not on a source before Kafka 2.4, which klink's group client cannot join: plan warns of it).
  if (oldSource(source())?.holdsGroups ?? true) {
    for (let i = 0; i < 100 && !String((await klink(["status", file])).stdout).includes("held on the source"); i++) await Bun.sleep(200);
    const straggler = await verifiableConsumer(source(), { topic, groupId: group, groupProtocol: "classic" });
    const stragglerEvents = timed(straggler);
    // It joins (klink parks it inside JoinGroup, or hands it an empty assignment once the park ends).
    let joined = false;
    for (let i = 0; i < 300 && !joined; i++, await Bun.sleep(200)) {
      const [d] = await withAdmin(source(), (a) => a.describeConsumerGroups([group]));
      joined = d!.members.length === 2; // klink and the straggler
    }
    expect(joined).toBe(true);
    await Bun.sleep(5_000);
    await straggler.stop();
    expect(stragglerEvents.filter((e) => e.name === "records_consumed")).toEqual([]);
    expect(stragglerEvents.filter((e) => e.name === "partitions_assigned").flatMap((e) => e.partitions)).toEqual([]);
  }
  const produced = await producer.stop();

  // Wait until the group has read everything on the target.
  const all = () => [...onSource.map((c, i) => ranges(`source-${i}`, c.events)), ...onTarget.map((c, i) => ranges(`target-${i}`, c.events))].flat();
  const deadline = Date.now() + 120_000;
  const count = () => all().reduce((n, r) => n + (r.max - r.min + 1), 0);
  while (count() < produced && Date.now() < deadline) await Bun.sleep(500);

  const groupStatus = JSON.parse((await klink(["status", file, "--json"])).stdout).groups[0];
  proc.kill("SIGTERM");
  await proc.exited;
  running.delete(proc);
  for (const c of onTarget) await c.tool.stop();

  const targetRanges = all().filter((r) => r.who.startsWith("target"));
  // Fenced: nothing read on the target before the last member had left the source.
  expect(targetRanges.filter((r) => r.at < lastLeftSource)).toEqual([]);
  expect(targetRanges.length).toBeGreaterThan(0);
  expect(groupStatus.state).toBe("handed-off");

  // Exactly once: per partition the ranges read on either cluster tile 0..end-1 (exact mode: same offsets).
  for (let p = 0; p < partitions; p++) {
    const rs = all().filter((r) => r.partition === p).sort((a, b) => a.min - b.min);
    const expectedEnd = Math.ceil((produced - p) / partitions); // records of partition p
    let next = 0;
    for (const r of rs) {
      expect({ partition: p, from: r.min, who: r.who }).toEqual({ partition: p, from: next, who: r.who }); // a gap or a record read twice shows here
      next = r.max + 1;
    }
    expect(next).toBe(expectedEnd);
  }
  console.log(`handoff: ${produced} records; group status: ${groupStatus.detail}`);
}, 400_000);
}

/** A group member: reads, commits after each batch, and reports what it processed (committed). */
interface Member {
  who: string;
  ranges(): Range[];
  stop(): Promise<void>;
}

async function javaMember(cluster: KafkaCluster, topic: string, group: string, who: string): Promise<Member> {
  const tool = await verifiableConsumer(cluster, { topic, groupId: group, groupProtocol: "classic" });
  const events = timed(tool);
  return { who, ranges: () => ranges(who, events), stop: () => tool.stop() };
}

/** A librdkafka consumer of this repo's binding; a batch counts once its commit succeeded. */
function rdkafkaMember(cluster: KafkaCluster, topic: string, group: string, who: string, strategy: string): Member {
  const consumer = new Consumer(plain(cluster, { "group.id": group, "partition.assignment.strategy": strategy, "auto.offset.reset": "earliest", "enable.auto.commit": false }));
  consumer.subscribe([topic]);
  const done: Range[] = [];
  let on = true;
  const loop = (async () => {
    while (on) {
      const batch = new Map<number, { min: number; max: number }>();
      for (const m of await consumer.consume(500, 100)) {
        if (!m.errorCode) {
          const r = batch.get(m.partition);
          batch.set(m.partition, { min: Math.min(r?.min ?? m.offset, m.offset), max: Math.max(r?.max ?? m.offset, m.offset) });
        }
        m.destroy();
      }
      if (batch.size === 0) continue;
      // Processed once committed, and only while the partition is still this member's: a
      // partition a rebalance took away is read again by its new owner from the last commit
      // (the broker would accept a late commit from a member of the current generation).
      // A cooperative member keeps its other partitions through a rebalance: their commit is
      // tried again.
      for (let attempt = 0; attempt < 20 && batch.size; attempt++) {
        const mine = new Set(consumer.assignment().filter((a) => a.topic === topic).map((a) => a.partition));
        for (const partition of [...batch.keys()]) if (!mine.has(partition)) batch.delete(partition);
        if (batch.size === 0) break;
        try {
          consumer.commit([...batch].map(([partition, r]) => ({ topic, partition, offset: r.max + 1 })));
          for (const [partition, r] of batch) done.push({ partition, min: r.min, max: r.max, at: Date.now(), who });
          break;
        } catch {
          await Bun.sleep(100);
        }
      }
    }
  })();
  return { who, ranges: () => done, stop: async () => ((on = false), await loop, consumer.close()) };
}

/** Per partition, the processed ranges of every member tile 0..end-1: no record twice, none skipped. */
function expectExactlyOnce(all: Range[], partitions: number, produced: number): void {
  for (let p = 0; p < partitions; p++) {
    const rs = all.filter((r) => r.partition === p).sort((a, b) => a.min - b.min);
    let next = 0;
    for (const r of rs) {
      expect({ partition: p, from: r.min, who: r.who }).toEqual({ partition: p, from: next, who: r.who });
      next = r.max + 1;
    }
    expect(next).toBe(Math.ceil((produced - p) / partitions));
  }
}

// "restart": the killed klink is started again; "standby": a second klink of the link (link.standby)
// waits, and takes the link and its fences over after the kill (#15: the fence moves with the link)
for (const takeover of ["restart", "standby"] as const) {
test(`librdkafka groups (range and cooperative-sticky) move member by member, with kill -9 of klink mid-move (cutover/auto${takeover === "standby" ? "; a standby klink takes over" : ""}): no record twice, none skipped`, async () => {
  const topic = uniqueName("handoff-rd");
  const partitions = 3;
  const groups = { range: uniqueName("eager"), "cooperative-sticky": uniqueName("coop") };
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions, configs: { "retention.ms": "-1" } }]));
  const linkName = uniqueName("handoff-rd");
  const standby = takeover === "standby";
  const fileFor = () => writeMigration({
    topics: [topic], linkName, linkExtra: standby ? "  standby: true\n" : "",
    extra: `groups:\n  names: [${Object.values(groups).join(", ")}]\ncutover:\n  plugin: auto\n  options: { promote: false }\n${standby ? "storage:\n  plugin: kafka\n" : ""}`,
  });
  const producer = steadyProducer(source(), topic, partitions);
  const members: Member[] = [];
  const onSource = new Map<string, Member[]>();
  for (const [strategy, group] of Object.entries(groups)) {
    const ms = [0, 1, 2].map((i) => rdkafkaMember(source(), topic, group, `${strategy}-source-${i}`, strategy));
    onSource.set(strategy, ms);
    members.push(...ms);
  }
  await until("both groups committed on the source", () => [...onSource.values()].every((ms) => ms.some((m) => m.ranges().length > 0)), 60_000);

  let run = runInBackground(fileFor(), running);
  const fenced = async () => {
    const r = await klink(["status", run.file, "--json"]);
    return r.code === 0 ? (JSON.parse(r.stdout).groups as Array<{ state: string; detail: string }>) : [];
  };
  for (let i = 0; i < 150 && (await fenced()).filter((g) => g.state === "fenced").length < 2; i++) await Bun.sleep(200);
  const waiting = standby ? runInBackground(fileFor(), running) : null;
  if (waiting) await until("the second klink stands by", () => waiting.log().includes("standby: another klink runs link"), 60_000, waiting.status);

  const lastLeftSource = new Map<string, number>();
  let fenceWatch: Promise<void> = Promise.resolve();
  const unfenced: string[] = [];
  for (let i = 0; i < 3; i++) {
    if (i === 2) {
      // kill -9 in the middle of the move: the restarted (or the standby) klink takes the fences back.
      run.proc.kill("SIGKILL");
      await run.exited;
      const killedAt = Date.now();
      run = waiting ?? runInBackground(run.file, running);
      const next = run;
      // the judge, from outside: the target's coordinator keeps klink's fence member in both
      // groups until the next klink has fenced them again (members there read nothing meanwhile)
      fenceWatch = (async () => {
        const client = new GroupClient({ config: { "bootstrap.servers": target().bootstrap } });
        try {
          while (!next.log().includes("fenced on the target") && Date.now() - killedAt < 180_000) {
            for (const group of Object.values(groups)) {
              const d = await describeGroup(client, group);
              if (!d.members.some((m) => m.groupInstanceId === `klink-${linkName}-fence`)) unfenced.push(`${group}, ${Date.now() - killedAt} ms after the kill: ${d.state}`);
            }
            await Bun.sleep(250);
          }
          console.log(`${takeover}: the groups fenced again about ${Date.now() - killedAt} ms after the kill -9`);
        } finally {
          client.close();
        }
      })();
    }
    await Bun.sleep(2_000);
    for (const [strategy, group] of Object.entries(groups)) {
      await onSource.get(strategy)![i]!.stop();
      lastLeftSource.set(strategy, Date.now());
      members.push(rdkafkaMember(target(), topic, group, `${strategy}-target-${i}`, strategy));
    }
  }
  await Bun.sleep(8_000);
  const produced = await producer.stop();
  const all = () => members.flatMap((m) => m.ranges());
  const deadline = Date.now() + 120_000;
  const processed = (strategy: string) => all().filter((r) => r.who.startsWith(`${strategy}-`)).reduce((n, r) => n + (r.max - r.min + 1), 0);
  while (Object.keys(groups).some((strategy) => processed(strategy) < produced) && Date.now() < deadline) await Bun.sleep(500);
  const states = await fenced();
  await fenceWatch;
  expect(unfenced).toEqual([]);
  run.proc.kill("SIGTERM");
  await run.exited;
  for (const m of members.filter((m) => m.who.includes("target"))) await m.stop();

  expect(states.map((g: any) => `${g.state}: ${g.detail}`).filter((s) => !s.startsWith("handed-off"))).toEqual([]);
  for (const strategy of Object.keys(groups)) {
    const mine = all().filter((r) => r.who.startsWith(`${strategy}-`));
    expect(mine.filter((r) => r.who.includes("target") && r.at < lastLeftSource.get(strategy)!)).toEqual([]); // fenced until the last left
    expectExactlyOnce(mine, partitions, produced);
  }
}, 400_000);
}

/** Keys a verbose VerifiableConsumer processed, with when. */
function keysOf(events: ToolEvent[]): Array<{ key: string; at: number; partition: number; offset: number }> {
  return events.filter((e) => e.name === "record_data").map((e) => ({ key: String(e.key), at: e.at as number, partition: e.partition as number, offset: e.offset as number }));
}

test("producers first (dual write), then groups move with translated offsets; promote refused while they read the source; rollback moves them back: every record processed once", async () => {
  const topic = uniqueName("handoff-dual");
  const partitions = 3;
  const [group, group2] = [uniqueName("dual-group"), uniqueName("back-group")];
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions, configs: { "retention.ms": "-1" } }]));
  const file = writeMigration({ topics: [topic], linkName: uniqueName("handoff-dual"), extra: `groups:\n  names: [${group}, ${group2}]\n` });

  // One producer writes keys p-0, p-1, ...; it moves from the source to the target mid-way.
  const load = movingProducer(source(), topic, partitions);
  const start = async (c: KafkaCluster, g: string) => {
    const tool = await verifiableConsumer(c, { topic, groupId: g, groupProtocol: "classic", verbose: true });
    return { tool, events: timed(tool) };
  };
  const members = [await start(source(), group), await start(source(), group), await start(source(), group2)];
  await members[0]!.tool.waitFor((e) => e.name === "offsets_committed", 60_000);
  await members[2]!.tool.waitFor((e) => e.name === "offsets_committed", 60_000);

  const proc = spawnKlink(["run", file]);
  running.add(proc);
  const groupsNow = async () => {
    const r = await klink(["status", file, "--json"]);
    return r.code === 0 ? (JSON.parse(r.stdout).groups as Array<{ group: string; state: string; detail: string }>) : [];
  };
  for (let i = 0; i < 150 && (await groupsNow()).filter((g) => g.state === "fenced").length < 2; i++) await Bun.sleep(200);
  await caughtUp(topic, partitions);
  load.moveTo(target()); // producers first: dual write begins
  await Bun.sleep(4_000);

  // Promote is refused while the groups still read on the source.
  const refused = await klink(["promote", file, topic]);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain("still read");

  // The group moves member by member; handoff on the operator's word.
  expect((await klink(["handoff", file, group])).code).toBe(0);
  expect((await klink(["handoff", file, group2])).code).toBe(0);
  let lastLeft = 0;
  for (const i of [0, 1]) {
    await members[i]!.tool.stop();
    lastLeft = Date.now();
    members.push(await start(target(), group));
    await Bun.sleep(2_000);
  }
  await members[2]!.tool.stop();
  members.push(await start(target(), group2));
  for (let i = 0; i < 150 && (await groupsNow()).filter((g) => g.state === "handed-off").length < 2; i++) await Bun.sleep(200);

  // Rollback: both groups move back to the source (klink holds them there until they left the target).
  const back = await klink(["rollback", file, topic]);
  expect(back.code).toBe(0);
  await Bun.sleep(3_000);
  for (const [i, g] of [[3, group], [4, group], [5, group2]] as const) {
    await members[i]!.tool.stop();
    members.push(await start(source(), g));
  }
  for (let i = 0; i < 150 && (await groupsNow()).filter((g) => g.state === "rolled-back").length < 2; i++) await Bun.sleep(200);

  await Bun.sleep(4_000);
  const produced = await load.stop();
  const expected = new Set([...Array(produced).keys()].map((n) => `p-${n}`));
  const processed = (g: string) => members.filter((m, i) => (g === group ? [0, 1, 3, 4, 6, 7] : [2, 5, 8]).includes(i)).flatMap((m) => keysOf(m.events));
  const deadline = Date.now() + 120_000;
  while ((new Set(processed(group).map((k) => k.key)).size < produced || new Set(processed(group2).map((k) => k.key)).size < produced) && Date.now() < deadline) await Bun.sleep(500);
  const states = await groupsNow();
  proc.kill("SIGTERM");
  await proc.exited;
  running.delete(proc);
  await Bun.write(file.replace(/migration\.yaml$/, "klink.log"), await new Response(proc.stderr).text()); // for a failure's diagnosis
  for (const m of members) await m.tool.stop();

  expect(states.map((g) => `${g.group === group ? "group" : "group2"} ${g.state}`).sort()).toEqual(["group rolled-back", "group2 rolled-back"]);
  for (const g of [group, group2]) {
    const keys = processed(g).map((k) => k.key);
    const seen = new Map<string, number>();
    for (const k of keys) seen.set(k, (seen.get(k) ?? 0) + 1);
    const twice = [...seen].filter(([, n]) => n > 1);
    if (twice.length) {
      const first = twice[0]![0];
      const reads = members.map((m, i) => keysOf(m.events).filter((k) => k.key === first).map((k) => `member ${i} ${k.partition}@${k.offset} at ${k.at}`)).flat();
      console.log(`group ${g} read ${twice.length} records twice, e.g. ${first}: ${reads.join("; ")} (klink log: ${file.replace(/migration\.yaml$/, "klink.log")})`);
    }
    expect({ group: g, twice: twice.slice(0, 5) }).toEqual({ group: g, twice: [] });
    expect({ group: g, missing: [...expected].filter((k) => !seen.has(k)).slice(0, 5) }).toEqual({ group: g, missing: [] });
  }
  // Fenced: the moved members of `group` read nothing before the last one left the source.
  expect(members.slice(3, 5).flatMap((m) => keysOf(m.events)).filter((k) => k.at < lastLeft)).toEqual([]);
}, 500_000);

test("promote with producers running on the target: refused while the source still gets writes, then the Router and Fetcher stop for good", async () => {
  const topic = uniqueName("promote");
  const partitions = 2;
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions, configs: { "retention.ms": "-1" } }]));
  const ghost = uniqueName("never-committed");
  const file = writeMigration({ topics: [topic], linkName: uniqueName("promote"), extra: `groups:\n  names: [${ghost}]\n` });
  const onSource = steadyProducer(source(), topic, partitions, 5);
  const onTarget = steadyProducer(target(), topic, partitions, 5);
  const proc = spawnKlink(["run", file]);
  running.add(proc);
  for (let i = 0; i < 150 && (await klink(["status", file])).code !== 0; i++) await Bun.sleep(200); // it answers
  await Bun.sleep(1_000);
  const refused = await klink(["promote", file, topic]);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain("may still write");
  // A group klink cannot fence (no committed offsets on the source) is reported as drain-then-switch.
  const groups = JSON.parse((await klink(["status", file, "--json"])).stdout).groups;
  expect(groups).toMatchObject([{ group: ghost, state: "drain-then-switch" }]);
  expect(groups[0].detail).toContain("no committed offsets on the source");

  await onSource.stop(); // the last producer left the source
  await Bun.sleep(11_000);
  const promoted = await klink(["promote", file, "promote-*"]);
  expect(promoted.stdout).toContain(`${topic}: promoted`);
  expect(promoted.code).toBe(0);
  const ends = async (c: KafkaCluster) => (await withAdmin(c, (a) => a.watermarks([0, 1].map((partition) => ({ topic, partition }))))).reduce((n, m) => n + m.high, 0);
  const sourceAtPromote = await ends(source());
  await Bun.sleep(3_000); // the target producer goes on; nothing reaches the source any more
  const targetProduced = await onTarget.stop();
  expect(await ends(source())).toBe(sourceAtPromote);
  expect(await ends(target())).toBeGreaterThan(sourceAtPromote);
  const status = await klink(["status", file]);
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  running.delete(proc);
  expect(targetProduced).toBeGreaterThan(0);
  expect(status.stdout).toContain(`${topic} (promoted)`);
  // A later run leaves the promoted topic alone.
  const again = await klink(["run", file, "--until-caught-up"]);
  expect(again.stderr).toContain(`${topic}: promoted earlier; not copied any more`);
}, 200_000);

test("consumers first: an application that keeps its offsets outside Kafka resumes on the target at the same offset", async () => {
  const topic = uniqueName("external-offsets");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  const producer = new Producer(plain(source()));
  for (let i = 0; i < 500; i++) producer.produce({ topic, partition: 0, key: `k${i}`, value: `v${i}` });
  await producer.flush();
  await producer.close();
  const file = writeMigration({ topics: [topic], linkName: uniqueName("external") });
  expect((await klink(["run", file, "--until-caught-up"])).code).toBe(0);
  // The application read up to offset 317 on the source and stored "next: 317" in its own database.
  const readAt = async (c: KafkaCluster, offset: number) => {
    const consumer = new Consumer(plain(c));
    consumer.assign([{ topic, partition: 0, offset }]);
    try {
      for (let i = 0; i < 100; i++) {
        for (const m of await consumer.consume(1, 100)) {
          const key = m.errorCode ? null : m.key()!.toString();
          m.destroy();
          if (key) return key;
        }
      }
      return null;
    } finally {
      consumer.close();
    }
  };
  expect(await readAt(source(), 317)).toBe("k317");
  expect(await readAt(target(), 317)).toBe("k317"); // after its bootstrap changes: the same record
}, 120_000);
