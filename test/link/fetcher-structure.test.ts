import { test, expect } from "bun:test";
import { Producer, Consumer, Offset, OffsetSpec, AlterConfigOp } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import { KEEP_OLD_TIMESTAMPS } from "../helpers.ts";
import { mirrorOnce, verify, linked, tempStore } from "./fetcher-helpers.ts";
import { identical } from "../../src/link/verify.ts";

async function readAll(cluster: ReturnType<typeof source>, topic: string, partition: number, isolation: string): Promise<string[]> {
  const c = new Consumer(plain(cluster, { "isolation.level": isolation, "enable.partition.eof": true }));
  c.assign([{ topic, partition, offset: Offset.BEGINNING }]);
  const out: string[] = [];
  for (let done = false; !done; ) {
    for (const m of await c.consume(1000, 500)) {
      if (m.isPartitionEof) done = true;
      else if (!m.errorCode) out.push(`${m.offset}:${m.value()?.toString()}`);
      m.destroy();
    }
  }
  c.close();
  return out;
}

async function ends(cluster: ReturnType<typeof source>, topic: string, partitions: number[]) {
  return withAdmin(cluster, (a) => a.watermarks(partitions.map((partition) => ({ topic, partition }))));
}

test("interleaved committed and aborted transactions from several producers, plus plain writes: same records at the same offsets", async () => {
  const topic = uniqueName("txn-src");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 2 }]));
  const txn = [0, 1, 2].map((i) => new Producer(plain(source(), { "transactional.id": uniqueName(`src-txn-${i}`), "linger.ms": 0 })));
  const plainProducer = new Producer(plain(source(), { "linger.ms": 0 }));
  for (const t of txn) t.initTransactions();
  // Rounds: producers 0 and 1 open transactions, write interleaved records (and producer 2 a
  // single record), a plain producer writes in between; then some commit, some abort.
  for (let round = 0; round < 30; round++) {
    for (const t of txn) t.beginTransaction();
    for (let i = 0; i < 4; i++) {
      for (const [n, t] of txn.entries()) if (n < 2 || i === 0) await t.send({ topic, partition: round % 2, value: `r${round}-p${n}-${i}` });
      if (round % 3 === 0) await plainProducer.send({ topic, partition: round % 2, value: `r${round}-plain-${i}` });
    }
    await txn[0]!.commitTransaction();
    if (round % 2) await txn[1]!.abortTransaction();
    else await txn[1]!.commitTransaction();
    if (round % 4 === 1) await txn[2]!.abortTransaction();
    else await txn[2]!.commitTransaction();
  }
  for (const t of [...txn, plainProducer]) await t.close();

  const { log } = await mirrorOnce([linked(topic)]);
  expect(log.filter((l) => l.includes("stopped"))).toEqual([]);

  for (const v of await verify(topic)) expect(identical(v)).toBe(true);
  for (const partition of [0, 1]) {
    // read_committed readers see exactly the same records at the same offsets...
    expect(await readAll(target(), topic, partition, "read_committed")).toEqual(await readAll(source(), topic, partition, "read_committed"));
    // ...and read_uncommitted readers on the target see the same committed records plus, where
    // the source had aborted records, nothing (fillers carry no value and are in aborted transactions).
    const srcCommitted = await readAll(source(), topic, partition, "read_committed");
    const tgtUncommitted = await readAll(target(), topic, partition, "read_uncommitted");
    expect(tgtUncommitted.filter((r) => !r.endsWith(":undefined"))).toEqual(srcCommitted);
  }
  // The logs end at the same offset on both clusters (fillers and markers included).
  expect((await ends(target(), topic, [0, 1])).map((w) => w.high)).toEqual((await ends(source(), topic, [0, 1])).map((w) => w.high));
}, 240_000);

test("a compacted source topic with holes is mirrored at the same offsets", async () => {
  const topic = uniqueName("compacted-src");
  await withAdmin(source(), (a) =>
    a.createTopics([{
      name: topic, partitions: 1,
      configs: { "cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.01", "min.compaction.lag.ms": "0", "delete.retention.ms": "100", "segment.ms": "100" },
    }]),
  );
  const p = new Producer(plain(source(), { "linger.ms": 0 }));
  let i = 0;
  const visible = async () => (await readAll(source(), topic, 0, "read_committed")).length;
  // Write updates of 20 keys until the log cleaner has removed older versions (holes).
  const deadline = Date.now() + 120_000;
  let holes = 0;
  while (Date.now() < deadline) {
    for (let k = 0; k < 200; k++, i++) await p.send({ topic, partition: 0, key: `key-${i % 20}`, value: `v${i}` });
    const [w] = await ends(source(), topic, [0]);
    holes = w!.high - w!.low - (await visible());
    if (holes > 100) break;
    await Bun.sleep(2000);
  }
  await p.close();
  expect(holes).toBeGreaterThan(100);
  // The cleaner must not go on removing source records between the copy and the comparison.
  await withAdmin(source(), (a) => a.incrementalAlterTopicConfigs(topic, [
    { name: "min.cleanable.dirty.ratio", op: AlterConfigOp.SET, value: "0.99" },
    { name: "segment.ms", op: AlterConfigOp.SET, value: "86400000" },
  ]));
  await Bun.sleep(5_000);

  const { log } = await mirrorOnce([linked(topic)]);
  expect(log.filter((l) => l.includes("stopped"))).toEqual([]);
  const [v] = await verify(topic);
  expect(identical(v!)).toBe(true);
  expect(v!.compared).toBeGreaterThan(0);
  expect(await readAll(target(), topic, 0, "read_committed")).toEqual(await readAll(source(), topic, 0, "read_committed"));
  const [sw] = await ends(source(), topic, [0]);
  const [tw] = await ends(target(), topic, [0]);
  expect(tw!.high).toBe(sw!.high);
}, 240_000);

test("start at latest and at a timestamp on a retention-trimmed source: offsets and log start equal", async () => {
  const topic = uniqueName("start-pos");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 2, configs: KEEP_OLD_TIMESTAMPS }]));
  const p = new Producer(plain(source(), { "linger.ms": 5 }));
  for (let i = 0; i < 4000; i++) p.produce({ topic, partition: i % 2, value: `v${i}`, timestamp: 1_700_000_000_000 + i * 10 });
  await p.flush();
  await withAdmin(source(), (a) => a.deleteRecords([{ topic, partition: 0, offset: 300 }, { topic, partition: 1, offset: 700 }]));

  // Timestamp: record i is at 1_700_000_000_000 + 10 i; partition 0 has even i at offset i/2.
  const ts = 1_700_000_000_000 + 10 * 2000; // i = 2000 → offset 1000 in both partitions
  const tsTopic = topic;
  const tsStore = tempStore(); // verify reads the link's start offset from the state
  const { log } = await mirrorOnce([linked(tsTopic, { kind: "timestamp", timestampMs: ts })], tsStore);
  expect(log.filter((l) => l.includes("stopped"))).toEqual([]);
  const tw = await ends(target(), topic, [0, 1]);
  expect(tw.map((w) => [w.low, w.high])).toEqual([[1000, 2000], [1000, 2000]]);
  for (const v of await verify(topic, tsStore)) {
    expect(identical(v)).toBe(true);
    expect(v.compared).toBe(1000);
  }
  await tsStore.close();

  // Latest: a second topic, linked at its end; records written afterwards are mirrored at equal offsets.
  const latest = uniqueName("start-latest");
  await withAdmin(source(), (a) => a.createTopics([{ name: latest, partitions: 1 }]));
  for (let i = 0; i < 500; i++) p.produce({ topic: latest, partition: 0, value: `old${i}` });
  await p.flush();
  await withAdmin(source(), (a) => a.deleteRecords([{ topic: latest, partition: 0, offset: 100 }]));
  const store = tempStore();
  const linkName = uniqueName("latest");
  await mirrorOnce([linked(latest, { kind: "latest" })], store, linkName);
  for (let i = 0; i < 300; i++) p.produce({ topic: latest, partition: 0, value: `new${i}` });
  await p.flush();
  await p.close();
  await mirrorOnce([linked(latest, { kind: "latest" })], store, linkName); // resumes
  const [lw] = await ends(target(), latest, [0]);
  expect([lw!.low, lw!.high]).toEqual([500, 800]);
  const [v] = await verify(latest, store);
  expect(identical(v!)).toBe(true);
  expect(v!.compared).toBe(300);
  await store.close();
}, 240_000);
