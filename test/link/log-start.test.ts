/**
 * The target's log start offset equals the source's (issue 11, items 4 and 5): a head the log
 * cleaner emptied, and a transactional topic that begins with an aborted transaction, keep log
 * start 0 on both clusters (a consumer positioned inside that head reads on, instead of being
 * out of range); and compact-only topics aligned at a later start (DeleteRecords, which needs
 * `delete` in cleanup.policy for the call) never fail with POLICY_VIOLATION, and keep their policy.
 */
import { test, expect } from "bun:test";
import { Producer, Consumer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import { writeMigration, klink } from "./klink-process.ts";
import { getCluster } from "../harness/state.ts";
import { exactDifferences } from "./exact-check.ts";

const COMPACT_FAST = { "cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.01", "min.compaction.lag.ms": "0", "delete.retention.ms": "100", "segment.ms": "100" };

/** The first record a consumer reads from `offset` on, or an error such as an out-of-range reset. */
async function firstRecordFrom(cluster: ReturnType<typeof source>, topic: string, offset: number): Promise<string> {
  const c = new Consumer(plain(cluster, { "isolation.level": "read_committed", "auto.offset.reset": "error", "enable.partition.eof": true }));
  try {
    c.assign([{ topic, partition: 0, offset }]);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const batch = await c.consume(10, 500);
      try {
        for (const m of batch) {
          if (m.isPartitionEof) continue;
          if (m.errorCode) return `error: ${m.error!.message}`;
          return `${m.offset}:${m.value()?.toString()}`;
        }
      } finally {
        for (const m of batch) m.destroy(); // every one: an undestroyed message blocks close()
      }
    }
    return "nothing within 30 s";
  } finally {
    c.close();
  }
}

test("a compacted head the cleaner emptied: log start 0 on both clusters, a consumer at offset 5 reads on", async () => {
  const topic = uniqueName("emptied-head");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1, configs: COMPACT_FAST }]));
  const p = new Producer(plain(source(), { "linger.ms": 5 }));
  // The first 3,000 records all update one key; later keys differ: the cleaner leaves the head empty.
  for (let i = 0; i < 3_000; i++) p.produce({ topic, partition: 0, key: "same", value: `old${i}` });
  await p.flush();
  let first = 0;
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; ) {
    for (let i = 0; i < 200; i++) p.produce({ topic, partition: 0, key: `k${i}`, value: `v${i}` });
    await p.flush();
    first = Number((await firstRecordFrom(source(), topic, 0)).split(":")[0]);
    if (first > 1_000) break;
    await Bun.sleep(2_000);
  }
  await p.close();
  expect(first).toBeGreaterThan(1_000); // the cleaner emptied the head

  const file = writeMigration({ topics: [topic], linkName: uniqueName("emptied-head"), offsets: "exact" });
  const run = await klink(["run", file, "--until-caught-up"]);
  expect(run.stderr).not.toContain("stopped");
  expect(run.code).toBe(0);
  expect(await exactDifferences(source(), target(), topic, 1)).toEqual([]);
  expect(await firstRecordFrom(target(), topic, 5)).toBe(await firstRecordFrom(source(), topic, 5));
}, 300_000);

test("a transactional topic that begins with an aborted transaction: log start 0 on both clusters", async () => {
  const topic = uniqueName("aborted-head");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  const t = new Producer(plain(source(), { "transactional.id": uniqueName("head"), "linger.ms": 0 }));
  t.initTransactions();
  t.beginTransaction();
  for (let i = 0; i < 30; i++) t.produce({ topic, partition: 0, value: `aborted${i}` });
  await t.flush(); // in the log before the abort (an abort purges what is still queued)
  await t.abortTransaction();
  t.beginTransaction();
  for (let i = 0; i < 20; i++) t.produce({ topic, partition: 0, value: `committed${i}` });
  await t.commitTransaction();
  await t.close();

  const file = writeMigration({ topics: [topic], linkName: uniqueName("aborted-head"), offsets: "exact" });
  const run = await klink(["run", file, "--until-caught-up"]);
  expect(run.stderr).not.toContain("stopped");
  expect(run.code).toBe(0);
  expect(await exactDifferences(source(), target(), topic, 1)).toEqual([]);
  expect(await firstRecordFrom(target(), topic, 5)).toBe("31:committed0");
}, 300_000);

test("compact-only topics aligned at a later start on a 3-broker target, many partitions: no POLICY_VIOLATION, policy kept", async () => {
  // The broker applies a config change a moment after the controller accepts it: on a 3-broker
  // target, partitions that switch and restore the policy one after the other hit that window.
  const three = getCluster("three");
  const topics = [uniqueName("compact-a"), uniqueName("compact-b"), uniqueName("compact-c")];
  const partitions = 12;
  await withAdmin(source(), (a) => a.createTopics(topics.map((name) => ({ name, partitions, configs: { "cleanup.policy": "compact" } }))));
  const p = new Producer(plain(source(), { "linger.ms": 5 }));
  for (const topic of topics) for (let i = 0; i < 840; i++) p.produce({ topic, partition: i % partitions, key: `k${i}`, value: `v${i}` });
  await p.flush();
  // start: latest aligns every partition at its end: fillers, then DeleteRecords on the target.
  const file = writeMigration({ topics, linkName: uniqueName("compact-align"), start: "latest", offsets: "exact", to: three });
  const first = await klink(["run", file, "--until-caught-up"]);
  expect(first.stderr).not.toContain("stopped");
  expect(first.code).toBe(0);
  for (const topic of topics) for (let i = 0; i < 60; i++) p.produce({ topic, partition: i % partitions, key: `n${i}`, value: `new${i}` });
  await p.flush();
  await p.close();
  const second = await klink(["run", file, "--until-caught-up"]);
  expect(second.stderr).not.toContain("stopped");
  expect(second.code).toBe(0);
  for (const topic of topics) {
    const tps = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }));
    const marks = await withAdmin(three, (a) => a.watermarks(tps));
    expect(marks.map((m) => [m.low, m.high])).toEqual(Array.from({ length: partitions }, () => [70, 75]));
    const policy = (await withAdmin(three, (a) => a.describeTopicConfigs(topic))).find((c) => c.name === "cleanup.policy")?.value;
    expect(policy).toBe("compact");
  }
}, 300_000);
