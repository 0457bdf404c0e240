/**
 * What a worker of a spread link copies (src/workers/partition-copier.ts), against the real test
 * clusters, judged by reading both clusters (exact-check.ts): it continues at the target's end,
 * also inside a batch another copy stopped in, at identical offsets while the source grows; it
 * gives back what it cannot copy as bytes, and writes nothing while its lease does not hold.
 */
import { afterAll, expect, test } from "bun:test";
import { PartitionCopier } from "../../src/workers/partition-copier.ts";
import { copyHeads } from "../../src/fast-lane/head-copy.ts";
import { plain, source, target, until, withAdmin } from "../helpers.ts";
import { exactDifferences } from "../link/exact-check.ts";
import { end, produce, produceCommitted, topicPair } from "../fast-lane/lane-helpers.ts";

const copiers: PartitionCopier[] = [];
afterAll(async () => {
  for (const c of copiers) await c.close();
});

function copier(o: { mayWrite?: () => boolean; returned?: Array<[string, string]> } = {}): PartitionCopier {
  const c = new PartitionCopier({
    source: { config: plain(source()), options: {} },
    target: { config: plain(target()), options: {} },
    mayWrite: o.mayWrite ?? (() => true),
    takeoverWaitMs: 0,
    onReturned: (key, reason) => o.returned?.push([key, reason]),
    log: (line) => console.log(line),
  });
  copiers.push(c);
  return c;
}

test("continues at the target's end inside a batch, and copies at identical offsets while the source grows", async () => {
  const topic = await topicPair("spread-copy");
  await produce(topic, 2000, "lz4");
  // an earlier owner stopped inside a batch (batches hold up to 500 records)
  await copyHeads(topic, [{ partition: 0, from: 0, to: 777 }], { source: { config: plain(source()) }, target: { config: plain(target()) } });
  expect(await end(target(), topic)).toBe(777);
  const returned: Array<[string, string]> = [];
  const c = copier({ returned });
  c.add([`${topic}/0`]);
  await produce(topic, 3000, "zstd", 2000);
  await until("the target holds all 5000 records", async () => (await end(target(), topic)) === 5000, 60_000);
  expect(await c.letGo([`${topic}/0`])).toEqual([`${topic}/0`]); // let go of cleanly: every write answered
  expect(returned).toEqual([]);
  expect(await exactDifferences(source(), target(), topic, 1)).toEqual([]);
}, 120_000);

test("gives a partition back where a transaction begins, having written nothing of it", async () => {
  const topic = await topicPair("spread-txn");
  await produce(topic, 300, "lz4");
  await produceCommitted(topic, 10);
  await produce(topic, 50, "lz4", 300);
  const returned: Array<[string, string]> = [];
  copier({ returned }).add([`${topic}/0`]);
  await until("the partition is given back", () => returned.length > 0, 30_000);
  expect(returned[0]![0]).toBe(`${topic}/0`);
  expect(returned[0]![1]).toContain("offset 300 cannot be copied as bytes: a transactional batch");
  expect(await end(target(), topic)).toBe(300);
}, 120_000);

test("gives a partition back when a producer wrote to the target (its record at the end is not the source's)", async () => {
  const topic = await topicPair("spread-dual");
  await produce(topic, 500, "none");
  await produce(topic, 1, "none", 9999, target()); // a client's record on the target at offset 0 (not the source's)
  const returned: Array<[string, string]> = [];
  copier({ returned }).add([`${topic}/0`]);
  await until("the partition is given back", () => returned.length > 0, 30_000);
  expect(returned[0]![1]).toContain("the target's record at offset 0 is not the source's");
}, 120_000);

test("writes nothing while its lease does not hold, and copies once it does; after a failed round it does not let go cleanly", async () => {
  const topic = await topicPair("spread-lease");
  await produce(topic, 400, "snappy");
  let lease = false;
  const c = copier({ mayWrite: () => lease });
  c.add([`${topic}/0`]);
  await Bun.sleep(2_000);
  expect(await end(target(), topic)).toBe(0);
  lease = true;
  await until("the target holds the 400 records", async () => (await end(target(), topic)) === 400, 30_000);
  expect(await exactDifferences(source(), target(), topic, 1)).toEqual([]);
  // the target partition goes away with records to copy: a round fails, so letting go is not clean (the next owner waits)
  await withAdmin(target(), (a) => a.deleteTopics([topic]));
  await produce(topic, 100, "snappy", 400);
  await Bun.sleep(2_000);
  expect(await c.letGo([`${topic}/0`])).toEqual([]);
}, 120_000);
