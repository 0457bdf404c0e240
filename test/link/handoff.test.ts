/**
 * Consumer group handoff against real brokers: a group of Kafka's VerifiableConsumer (Java,
 * classic protocol) moves one member at a time from the source to the target while a producer
 * writes. Members on the target read nothing until the last one has left the source; then klink
 * copies the group's offsets and they go on: no record consumed twice, none skipped.
 */
import { test, expect, afterAll } from "bun:test";
import { Producer, Consumer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import { verifiableConsumer, stopAllTools, type VerifiableTool, type ToolEvent } from "../harness/tools.ts";
import type { KafkaCluster } from "../harness/cluster.ts";
import { writeMigration, spawnKlink, klink } from "./klink-process.ts";

const running = new Set<ReturnType<typeof spawnKlink>>();
afterAll(async () => {
  for (const p of running) p.kill("SIGKILL");
  await stopAllTools();
});

/** Writes keyed records round-robin until stopped; returns how many. */
function steadyProducer(cluster: KafkaCluster, topic: string, partitions: number, perTick = 20) {
  const producer = new Producer(plain(cluster, { "linger.ms": 2 }));
  let sent = 0;
  let on = true;
  const done = (async () => {
    while (on) {
      for (let i = 0; i < perTick; i++, sent++) producer.produce({ topic, partition: sent % partitions, key: `k${sent}`, value: `v${sent}` });
      await Bun.sleep(50);
    }
    await producer.flush();
    await producer.close();
  })();
  return { stop: async () => ((on = false), await done, sent) };
}

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

test("a VerifiableConsumer group moves member by member to the target: fenced until the last leaves the source, then no record twice, none skipped", async () => {
  const topic = uniqueName("handoff");
  const group = uniqueName("group");
  const partitions = 3;
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions, configs: { "retention.ms": "-1" } }]));
  const file = writeMigration({ topics: [topic], linkName: uniqueName("handoff"), extra: `groups:\n  names: [${group}]\n` });
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
  expect(status?.groups?.[0]).toMatchObject({ group, state: "fenced" });
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
  await Bun.sleep(5_000);
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
      try {
        consumer.commit([...batch].map(([partition, r]) => ({ topic, partition, offset: r.max + 1 })));
        for (const [partition, r] of batch) done.push({ partition, min: r.min, max: r.max, at: Date.now(), who });
      } catch {
        // a rebalance took the partitions: whoever gets them reads these records again
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

test("librdkafka groups (range and cooperative-sticky) move member by member, with kill -9 of klink mid-move (cutover/auto): no record twice, none skipped", async () => {
  const topic = uniqueName("handoff-rd");
  const partitions = 3;
  const groups = { range: uniqueName("eager"), "cooperative-sticky": uniqueName("coop") };
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions, configs: { "retention.ms": "-1" } }]));
  const file = writeMigration({
    topics: [topic], linkName: uniqueName("handoff-rd"),
    extra: `groups:\n  names: [${Object.values(groups).join(", ")}]\ncutover:\n  plugin: auto\n  options: { promote: false }\n`,
  });
  const producer = steadyProducer(source(), topic, partitions);
  const members: Member[] = [];
  const onSource = new Map<string, Member[]>();
  for (const [strategy, group] of Object.entries(groups)) {
    const ms = [0, 1, 2].map((i) => rdkafkaMember(source(), topic, group, `${strategy}-source-${i}`, strategy));
    onSource.set(strategy, ms);
    members.push(...ms);
  }
  const until = async (what: string, f: () => boolean) => {
    for (let i = 0; i < 300 && !f(); i++) await Bun.sleep(200);
    expect({ what, ok: f() }).toEqual({ what, ok: true });
  };
  await until("both groups committed on the source", () => [...onSource.values()].every((ms) => ms.some((m) => m.ranges().length > 0)));

  let proc = spawnKlink(["run", file]);
  running.add(proc);
  const fenced = async () => {
    const r = await klink(["status", file, "--json"]);
    return r.code === 0 ? (JSON.parse(r.stdout).groups as Array<{ state: string; detail: string }>) : [];
  };
  for (let i = 0; i < 150 && (await fenced()).filter((g) => g.state === "fenced").length < 2; i++) await Bun.sleep(200);

  const lastLeftSource = new Map<string, number>();
  for (let i = 0; i < 3; i++) {
    if (i === 2) {
      // kill -9 in the middle of the move: the restarted klink takes the fences back.
      proc.kill("SIGKILL");
      await proc.exited;
      running.delete(proc);
      proc = spawnKlink(["run", file]);
      running.add(proc);
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
  while (all().reduce((n, r) => n + (r.max - r.min + 1), 0) < 2 * produced && Date.now() < deadline) await Bun.sleep(500);
  const states = await fenced();
  proc.kill("SIGTERM");
  await proc.exited;
  running.delete(proc);
  for (const m of members.filter((m) => m.who.includes("target"))) await m.stop();

  expect(states.map((g: any) => `${g.state}: ${g.detail}`).filter((s) => !s.startsWith("handed-off"))).toEqual([]);
  for (const strategy of Object.keys(groups)) {
    const mine = all().filter((r) => r.who.startsWith(`${strategy}-`));
    expect(mine.filter((r) => r.who.includes("target") && r.at < lastLeftSource.get(strategy)!)).toEqual([]); // fenced until the last left
    expectExactlyOnce(mine, partitions, produced);
  }
}, 400_000);
