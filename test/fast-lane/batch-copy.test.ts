/**
 * The fast lane's copy step against real brokers: record batches fetched as bytes, restamped and
 * produced to the target must land at the source's offsets with the same records, for every
 * codec; what it cannot copy as bytes (transactions, a batch the target refuses, a target that
 * does not end where the source's copy does) stops it with the reason, nothing half-written.
 * The oracle reads both clusters with librdkafka consumers (exact-check.ts), not the lane.
 */
import { afterAll, expect, test } from "bun:test";
import { FastLaneError } from "../../src/fast-lane/batch-copier.ts";
import { restamp, splitBatches } from "../../src/fast-lane/record-batch.ts";
import { Producer } from "../../src/rdkafka/index.ts";
import { plain, source, target } from "../helpers.ts";
import { exactDifferences } from "../link/exact-check.ts";
import { closeClients, copier, copyAll, end, produce, produceCommitted, topicPair } from "./lane-helpers.ts";

afterAll(closeClients);

for (const codec of ["none", "gzip", "snappy", "lz4", "zstd"]) {
  test(`${codec} batches are copied as bytes to the same offsets`, async () => {
    const topic = await topicPair(`lane-${codec}`);
    await produce(topic, 3000, codec);
    const lane = copier();
    const r = await copyAll(lane, { topic, partition: 0 });
    expect(r.stoppedAt).toBeNull();
    expect(r.next).toBe(3000);
    expect(await exactDifferences(source(), target(), topic, 1)).toEqual([]);

    // a second producer session on the source continues the same target partition
    await produce(topic, 500, codec, 3000);
    expect((await copyAll(lane, { topic, partition: 0 }, r.next)).next).toBe(3500);
    expect(await exactDifferences(source(), target(), topic, 1)).toEqual([]);
  }, 120_000);
}

test("a transaction on the source stops the lane where it begins", async () => {
  const topic = await topicPair("lane-txn");
  await produce(topic, 200, "lz4");
  await produceCommitted(topic, 10);
  await produce(topic, 50, "lz4", 200);

  const r = await copyAll(copier(), { topic, partition: 0 });
  expect(r.stoppedAt).toEqual({ offset: 200, reason: "a transactional batch" });
  expect(await end(target(), topic)).toBe(200);
}, 120_000);

test("a batch whose bytes do not match its checksum is refused by the target and nothing is written", async () => {
  const topic = await topicPair("lane-crc");
  await produce(topic, 100, "none");
  const lane = copier();
  const p = { topic, partition: 0 };
  const producer = await lane.initProducer();
  const { records } = await lane.fetch(p, 0);
  const first = splitBatches(records).batches[0]!;
  records.writeUInt8(records[first.end - 3]! ^ 0x20, first.end - 3); // a bit flipped in the last record's value
  restamp(records, first, producer.id, producer.epoch, 0);
  const err = await lane.produce(p, records, first).catch((e) => e);
  expect(err).toBeInstanceOf(FastLaneError);
  expect((err as FastLaneError).code).toBe("CORRUPT_MESSAGE");
  expect(String(err.message)).toContain(`${topic}[0] batch at offset 0: the target refused it: CORRUPT_MESSAGE`);
  expect(await end(target(), topic)).toBe(0);
}, 60_000);

test("a batch larger than the target's max.message.bytes stops the lane with the reason", async () => {
  const topic = await topicPair("lane-large", { "max.message.bytes": "2000" });
  const producer = new Producer(plain(source(), { "linger.ms": 50 }));
  for (let i = 0; i < 10; i++) producer.produce({ topic, partition: 0, value: Buffer.alloc(1000, i) });
  await producer.flush();
  await producer.close();

  const err = await copyAll(copier(), { topic, partition: 0 }).catch((e) => e);
  expect(err).toBeInstanceOf(FastLaneError);
  expect((err as FastLaneError).code).toBe("MESSAGE_TOO_LARGE");
  expect(await end(target(), topic)).toBe(0);
}, 60_000);

test("a target partition that does not end where the copy does is not written past", async () => {
  const topic = await topicPair("lane-shift");
  await produce(topic, 3000, "lz4");
  const other = new Producer(plain(target()));
  other.produce({ topic, partition: 0, value: "written to the target by someone else" });
  await other.flush();
  await other.close();

  const err = await copyAll(copier(), { topic, partition: 0 }).catch((e) => e);
  expect(err).toBeInstanceOf(FastLaneError);
  expect((err as FastLaneError).code).toBe("OFFSET_MISMATCH");
  expect(String(err.message)).toContain("batch at offset 0: the target placed it at offset 1");
  // the first batch landed at offset 1 (the target cannot know better); nothing after it did
  const batches = splitBatches((await copier().fetch({ topic, partition: 0 }, 0)).records).batches;
  expect(batches.length).toBeGreaterThan(1);
  expect(await end(target(), topic)).toBe(1 + batches[0]!.recordCount);
}, 60_000);

test("a round over many partitions keeps each partition's batches in order across waves of different sizes", async () => {
  const partitions = 12;
  const topic = await topicPair("lane-waves", {}, source(), target(), partitions);
  const producer = new Producer(plain(source(), { "linger.ms": 0, "batch.num.messages": 5 }));
  const written = new Array<number>(partitions).fill(0);
  const write = async (p: number, batches: number) => {
    for (let b = 0; b < batches; b++) {
      for (let i = 0; i < 5; i++) producer.produce({ topic, partition: p, key: `k${written[p]}`, value: `v${written[p]!++}` });
      await producer.flush(); // one batch at a time
    }
  };
  const lane = copier(source(), target(), 1024 * 1024);
  let parts = Array.from({ length: partitions }, (_, partition) => ({ partition: { topic, partition }, next: 0 }));
  const copy = async () => {
    for (let round = 0; round < 50 && parts.some((x, p) => x.next < written[p]!); round++) {
      const results = await lane.copyRounds(parts);
      for (const r of results) if (r.error) throw r.error;
      parts = results.map((r) => ({ partition: r.partition, next: r.next }));
    }
  };
  // a first round places every partition; in the second, waves 0-3 hold every partition and the
  // later waves partition 0 alone: those must not reach the broker before the longer ones
  for (let p = 0; p < partitions; p++) await write(p, 1);
  await copy();
  for (let p = 0; p < partitions; p++) await write(p, p === 0 ? 12 : 4);
  await copy();
  await producer.close();
  expect(parts.map((x) => x.next)).toEqual(written);
  expect(await exactDifferences(source(), target(), topic, partitions)).toEqual([]);
}, 60_000);
