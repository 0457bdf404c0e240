/**
 * A restart after the source's log cleaner removed records klink had already copied (issue 11,
 * found by the nemesis, seed 279): the target still holds those copies at their offsets, the
 * source has holes there now. That is an exact copy that the cleaner has not caught up with on
 * the target yet, not records a producer wrote straight to the target: klink must resume in
 * exact mode and write nothing to the source. (The old code took the copies for a producer's
 * records, went to dual write and routed them back: the source's latest value of those keys went
 * back to an old one.)
 */
import { test, expect } from "bun:test";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import { writeMigration, klink } from "./klink-process.ts";
import { readTopic } from "./dual-write-workload.ts";

const COMPACT_FAST = { "cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.01", "min.compaction.lag.ms": "0", "delete.retention.ms": "100", "segment.ms": "100" };

test("compacted source cleaned under the target's last copies: the restart stays exact and writes nothing to the source", async () => {
  const topic = uniqueName("cleaned-tail");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1, configs: COMPACT_FAST }]));
  const p = new Producer(plain(source(), { "linger.ms": 5 }));
  const latest = new Map<string, string>();
  const write = async (keys: string[], tag: string) => {
    for (const k of keys) {
      p.produce({ topic, partition: 0, key: k, value: `${tag}-${k}` });
      latest.set(k, `${tag}-${k}`);
    }
    await p.flush();
  };
  const keys = Array.from({ length: 300 }, (_, i) => `k${i}`);
  await write(keys, "first");
  const file = writeMigration({ topics: [topic], linkName: uniqueName("cleaned-tail"), offsets: "exact" });
  const first = await klink(["run", file, "--until-caught-up"]);
  expect(first.code).toBe(0);
  const copiedEnd = (await readTopic(target(), topic)).at(-1)!.offset + 1;

  // New values for the last 40 keys copied: the cleaner may now remove the target's last 40 copies' originals.
  const tail = keys.slice(-40);
  let cleaned = false;
  for (let round = 0; round < 60 && !cleaned; round++) {
    await write(tail, `second${round}`);
    await Bun.sleep(1_000);
    const onSource = new Set((await readTopic(source(), topic)).map((r) => r.offset));
    cleaned = Array.from({ length: 40 }, (_, i) => copiedEnd - 40 + i).every((o) => !onSource.has(o));
  }
  await p.close();
  expect(cleaned).toBe(true); // the source's cleaner removed the originals of the target's last 40 copies

  const second = await klink(["run", file, "--until-caught-up"]);
  expect(second.code).toBe(0);

  // Judged from the clusters: the source's latest value of every key is the last one written (nothing
  // was routed back), and every source record is on the target at its offset.
  const [onSource, onTarget] = await Promise.all([readTopic(source(), topic), readTopic(target(), topic)]);
  const last = new Map<string, string>();
  for (const r of onSource) last.set(r.key!.toString(), r.value!.toString());
  expect(Object.fromEntries(last)).toEqual(Object.fromEntries(latest));
  const targetAt = new Map(onTarget.map((r) => [r.offset, `${r.key}=${r.value}@${r.timestamp}`]));
  const misplaced = onSource.filter((r) => targetAt.get(r.offset) !== `${r.key}=${r.value}@${r.timestamp}`).map((r) => r.offset);
  expect(misplaced).toEqual([]);
  expect(second.stderr).not.toMatch(/dual.write|translate mode/);
}, 300_000);

test("compacted source whose keys were deleted since (tombstones removed too): the restart stays exact and routes nothing back", async () => {
  const topic = uniqueName("cleaned-deleted");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1, configs: COMPACT_FAST }]));
  const p = new Producer(plain(source(), { "linger.ms": 5 }));
  const keys = Array.from({ length: 300 }, (_, i) => `k${i}`);
  for (const k of keys) p.produce({ topic, partition: 0, key: k, value: `first-${k}` });
  await p.flush();
  const file = writeMigration({ topics: [topic], linkName: uniqueName("cleaned-deleted"), offsets: "exact" });
  expect((await klink(["run", file, "--until-caught-up"])).code).toBe(0);

  // The last 40 keys are deleted (tombstones); more writes of other keys let the cleaner remove the
  // originals and then, after delete.retention.ms, the tombstones: the source keeps no trace of them.
  const deleted = keys.slice(-40);
  for (const k of deleted) p.produce({ topic, partition: 0, key: k, value: null });
  await p.flush();
  let gone = false;
  for (let round = 0; round < 90 && !gone; round++) {
    for (let i = 0; i < 20; i++) p.produce({ topic, partition: 0, key: `other${i}`, value: `round${round}` });
    await p.flush();
    await Bun.sleep(1_000);
    gone = (await readTopic(source(), topic)).every((r) => !deleted.includes(r.key!.toString()));
  }
  await p.close();
  expect(gone).toBe(true); // neither the originals nor the tombstones are on the source

  const second = await klink(["run", file, "--until-caught-up"]);
  expect(second.code).toBe(0);
  expect(second.stderr).not.toMatch(/dual.write|translate mode/);
  // Judged from the clusters: no deleted key came back to the source, every source record is on the target at its offset.
  const [onSource, onTarget] = await Promise.all([readTopic(source(), topic), readTopic(target(), topic)]);
  expect(onSource.filter((r) => deleted.includes(r.key!.toString())).map((r) => r.offset)).toEqual([]);
  const targetAt = new Map(onTarget.map((r) => [r.offset, `${r.key}=${r.value}@${r.timestamp}`]));
  expect(onSource.filter((r) => targetAt.get(r.offset) !== `${r.key}=${r.value}@${r.timestamp}`).map((r) => r.offset)).toEqual([]);
}, 300_000);
