/** The fast lane's codec: CRC-32C, splitting fetched record sets, and the producer-field rewrite. */
import { expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { crc32c, crc32cAfterChange, crc32cUpdate, crc32cZeros } from "../../src/fast-lane/crc32c.ts";
import { BATCH_HEADER_BYTES, checksumHolds, restamp, splitBatches, whyNotPlain } from "../../src/fast-lane/record-batch.ts";

/** A magic-2 batch with `count` opaque record bytes, offsets base..base+lastDelta, a valid checksum. */
function batch(opts: { base: number; count: number; lastDelta?: number; attributes?: number; body?: number }): Buffer {
  const body = randomBytes(opts.body ?? 40);
  const b = Buffer.alloc(BATCH_HEADER_BYTES + body.length);
  b.writeBigInt64BE(BigInt(opts.base), 0);
  b.writeInt32BE(b.length - 12, 8);
  b.writeInt32BE(7, 12); // leader epoch
  b.writeInt8(2, 16);
  b.writeInt16BE(opts.attributes ?? 3, 21); // lz4
  b.writeInt32BE(opts.lastDelta ?? opts.count - 1, 23);
  b.writeBigInt64BE(1_700_000_000_000n, 27);
  b.writeBigInt64BE(1_700_000_000_500n, 35);
  b.writeBigInt64BE(-1n, 43);
  b.writeInt16BE(-1, 51);
  b.writeInt32BE(-1, 53);
  b.writeInt32BE(opts.count, 57);
  body.copy(b, BATCH_HEADER_BYTES);
  b.writeUInt32BE(crc32c(b, 21), 17);
  return b;
}

test("CRC-32C matches the standard check value", () => {
  expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283);
  expect(crc32c(Buffer.alloc(0))).toBe(0);
  expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43); // RFC 3720 B.4
});

test("slice-by-8 and byte-at-a-time agree on every length and alignment", () => {
  const data = randomBytes(300);
  const slow = (s: number, e: number) => {
    let c = 0xffffffff;
    for (let i = s; i < e; i++) c = crc32cUpdate(c, data, i, i + 1);
    return (c ^ 0xffffffff) >>> 0;
  };
  for (let s = 0; s < 9; s++) for (const e of [s, s + 1, s + 7, s + 8, s + 9, 100, 300]) expect(crc32c(data, s, e)).toBe(slow(s, e));
});

test("carrying a CRC through zero bytes equals feeding the zeros", () => {
  for (const n of [0, 1, 3, 8, 17, 1000, 65_537]) {
    const state = 0x12345678;
    expect(crc32cZeros(state, n)).toBe(crc32cUpdate(state, Buffer.alloc(n)));
  }
});

test("a changed field's new CRC, carried from the old one, equals a full recomputation", () => {
  for (let round = 0; round < 50; round++) {
    const region = randomBytes(20 + Math.floor(Math.random() * 5000));
    const from = Math.floor(Math.random() * (region.length - 14));
    const before = Buffer.from(region.subarray(from, from + 14));
    const old = crc32c(region);
    const after = randomBytes(14);
    after.copy(region, from);
    expect(crc32cAfterChange(old, before, after, from + 14, region.length)).toBe(crc32c(region));
  }
});

test("a record set splits into whole batches and a partial tail", () => {
  const set = Buffer.concat([batch({ base: 10, count: 3 }), batch({ base: 13, count: 5 }), batch({ base: 18, count: 2 }).subarray(0, 30)]);
  const { batches, partialBytes } = splitBatches(set);
  expect(batches.map((b) => [b.baseOffset, b.lastOffset, b.recordCount])).toEqual([[10, 12, 3], [13, 17, 5]]);
  expect(partialBytes).toBe(30);
  expect(splitBatches(Buffer.alloc(0))).toEqual({ batches: [], partialBytes: 0 });
  const bad = batch({ base: 0, count: 1 });
  bad.writeInt8(7, 16);
  expect(() => splitBatches(bad)).toThrow(/not a record batch at byte 0: magic 7/);
});

test("only plain, contiguous batches that continue the partition are copied as bytes", () => {
  const view = (b: Buffer) => splitBatches(b).batches[0]!;
  expect(whyNotPlain(view(batch({ base: 5, count: 3 })), 5)).toBeNull();
  expect(whyNotPlain(view(batch({ base: 5, count: 3 })), 4)).toBe("a batch at offset 5 where 4 comes next");
  expect(whyNotPlain(view(batch({ base: 5, count: 3, attributes: 0x10 })), 5)).toBe("a transactional batch");
  expect(whyNotPlain(view(batch({ base: 5, count: 1, attributes: 0x30 })), 5)).toBe("a control batch");
  expect(whyNotPlain(view(batch({ base: 5, count: 2, lastDelta: 4 })), 5)).toBe("a compacted batch with gaps between its offsets");
  expect(whyNotPlain(view(batch({ base: 5, count: 3, attributes: 0x40 })), 5)).toBe("a compacted batch with a delete horizon");
  expect(whyNotPlain(view(batch({ base: 5, count: 3, attributes: 0x0b })), 5)).toBe("a batch with the source broker's append time (message.timestamp.type LogAppendTime)"); // lz4 + LogAppendTime
});

test("restamping sets klink's producer fields and keeps the checksum valid, or invalid if it was", () => {
  const set = Buffer.concat([batch({ base: 100, count: 3, body: 500 }), batch({ base: 103, count: 4, body: 900 })]);
  const [a, b] = splitBatches(set).batches as [ReturnType<typeof splitBatches>["batches"][0], ReturnType<typeof splitBatches>["batches"][0]];
  expect(restamp(set, a, 4242n, 3, 2_147_483_646)).toBe(1); // sequences wrap as Kafka's do
  expect(restamp(set, b, 4242n, 3, 1)).toBe(5);
  for (const v of [a, b]) {
    expect(checksumHolds(set, v)).toBe(true);
    expect(set.readBigInt64BE(v.start)).toBe(0n);
    expect(set.readInt32BE(v.start + 12)).toBe(-1);
    expect(set.readBigInt64BE(v.start + 43)).toBe(4242n);
    expect(set.readInt16BE(v.start + 51)).toBe(3);
  }
  expect(set.readInt32BE(b.start + 53)).toBe(1);

  const corrupt = batch({ base: 0, count: 2, body: 300 });
  corrupt.writeUInt8(corrupt[200]! ^ 0x01, 200);
  const v = splitBatches(corrupt).batches[0]!;
  expect(checksumHolds(corrupt, v)).toBe(false);
  restamp(corrupt, v, 1n, 0, 0);
  expect(checksumHolds(corrupt, v)).toBe(false);
});
