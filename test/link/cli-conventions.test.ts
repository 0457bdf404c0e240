/**
 * CLI conventions against the test clusters (issue 17, item 3): `klink offsets translate` past
 * what was copied exits 2 as its help says, and `promote --dry-run` / `handoff --dry-run` change
 * nothing, judged from the clusters with another client.
 */
import { test, expect, afterAll } from "bun:test";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import type { KafkaCluster } from "../harness/cluster.ts";
import { writeMigration, spawnKlink, klink, statusWhenRunning } from "./klink-process.ts";

const running = new Set<ReturnType<typeof spawnKlink>>();
afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
});

async function produce(topic: string, count: number): Promise<void> {
  const producer = new Producer(plain(source()));
  for (let i = 0; i < count; i++) producer.produce({ topic, partition: 0, key: `k${i}`, value: `v${i}` });
  await producer.flush();
  await producer.close();
}

const end = async (c: () => KafkaCluster, topic: string) => (await withAdmin(c(), (a) => a.watermarks([{ topic, partition: 0 }])))[0]!.high;

test("offsets translate of an exact-mode partition: an offset copied is answered, one at or past the copied end exits 2", async () => {
  const topic = uniqueName("translate-end");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  await produce(topic, 10);
  const file = writeMigration({ topics: [topic], linkName: uniqueName("translate-end"), offsets: "exact" });
  expect((await klink(["run", file, "--until-caught-up"])).code).toBe(0);
  expect(await end(target, topic)).toBe(10); // the oracle: the target holds offsets 0..9

  const translate = (offset: number) => klink(["offsets", "translate", file, "--topic", topic, "--partition", "0", "--offset", String(offset), "--json"]);
  const copied = await translate(9);
  expect(copied.code).toBe(0);
  expect(JSON.parse(copied.stdout)).toMatchObject({ mode: "exact", translated: 9 });
  for (const offset of [10, 1_000]) {
    const past = await translate(offset);
    expect(past.code).toBe(2);
    expect(JSON.parse(past.stdout)).toMatchObject({ mode: "exact", translated: null });
  }
}, 200_000);

test("promote --dry-run and handoff --dry-run say what would happen and change nothing; the real ones then do", async () => {
  const topic = uniqueName("dry-run");
  const group = uniqueName("dry-group");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  await produce(topic, 10);
  // a group with committed offsets on the source and no member there: a handoff could happen at once
  await withAdmin(source(), (a) => a.alterConsumerGroupOffsets(group, [{ topic, partition: 0, offset: 7 }]));
  const file = writeMigration({ topics: [topic], linkName: uniqueName("dry-run"), extra: `groups:\n  names: [${group}]\n` });
  const proc = spawnKlink(["run", file]);
  running.add(proc);
  await statusWhenRunning(file);
  const committedOnTarget = () => withAdmin(target(), (a) => a.listConsumerGroupOffsets(group, [{ topic, partition: 0 }]));
  const noOffset = (offsets: Array<{ offset: number }>) => offsets.every((o) => o.offset < 0);

  const dryHandoff = await klink(["handoff", file, group, "--dry-run", "--json"]);
  expect(dryHandoff.code).toBe(0);
  expect(JSON.parse(dryHandoff.stdout).message).toBe(`dry run, nothing changed: group ${group} would be handed off now: its committed offsets copied to the target, its members there let read (fenced now)`);
  const dryPromote = await klink(["promote", file, topic, "--force", "--dry-run"]);
  expect(dryPromote.code).toBe(0);
  expect(dryPromote.stdout).toStartWith(`dry run, nothing changed:\n${topic}: would be promoted`);

  // Nothing changed: after a while the group has no offsets on the target, and the topic is still copied.
  await Bun.sleep(3_000);
  expect(noOffset(await committedOnTarget())).toBe(true);
  await produce(topic, 5);
  while ((await end(target, topic)) < 15) await Bun.sleep(200);

  // The real handoff does what the dry run said (so the check above could have seen it).
  expect((await klink(["handoff", file, group])).code).toBe(0);
  let offsets = await committedOnTarget();
  for (let i = 0; i < 150 && noOffset(offsets); i++) {
    await Bun.sleep(200);
    offsets = await committedOnTarget();
  }
  expect(offsets.map((o) => o.offset)).toEqual([7]);
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  running.delete(proc);
}, 300_000);
