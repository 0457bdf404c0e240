import { test, expect } from "bun:test";
import { Producer, Consumer, Offset, TimestampType, type ProducerRecord } from "../../src/rdkafka/index.ts";
import { source, plain, uniqueName, withAdmin, consumeCount } from "../helpers.ts";
import { KEEP_OLD_TIMESTAMPS } from "../helpers.ts";

// Deterministic record i: some null keys, null and empty values, headers (repeated names, null
// values), explicit CreateTime timestamps, and one 1 MiB value.
function record(topic: string, i: number): ProducerRecord {
  const r: ProducerRecord = { topic, partition: i % 3, timestamp: 1_600_000_000_000 + i };
  if (i % 7 !== 0) r.key = `key-${i}`;
  if (i % 11 === 0) r.value = null;
  else if (i % 13 === 0) r.value = new Uint8Array(0);
  else if (i === 500) r.value = Buffer.alloc(1024 * 1024, i & 0xff);
  else r.value = Buffer.from(`value-${i}-`.repeat(1 + (i % 5)));
  if (i % 3 === 0) r.headers = [["trace", `t-${i}`], ["empty", null], ["trace", Buffer.from([0, 1, 2, i & 0xff])]];
  return r;
}

test("100k records with headers, nulls, a 1 MiB value and timestamps read back byte-identical, offsets in order", async () => {
  const cluster = source();
  const topic = uniqueName("produce-consume");
  const N = 100_000;
  await withAdmin(cluster, (a) => a.createTopics([{ name: topic, partitions: 3, configs: { "max.message.bytes": String(2 * 1024 * 1024), ...KEEP_OLD_TIMESTAMPS } }]));

  // Delivery reports give each record's offset; a delivery error fails the test.
  const sentOffset = new Map<number, number>(); // record index -> offset
  const idToIndex = new Map<number, number>();
  const failures: Error[] = [];
  const producer = new Producer(plain(cluster, { "linger.ms": 5, "message.max.bytes": 2 * 1024 * 1024 }), {
    onDelivery: (r) => (r.error ? failures.push(r.error) : sentOffset.set(idToIndex.get(r.id)!, r.offset)),
  });
  try {
    for (let i = 0; i < N; i++) {
      for (;;) {
        try {
          idToIndex.set(producer.produce(record(topic, i)), i);
          break;
        } catch (e: any) {
          if (e.code !== -184) throw e; // queue full: serve reports, retry
          producer.poll();
          await Bun.sleep(1);
        }
      }
    }
    await producer.flush();
  } finally {
    await producer.close();
  }
  expect(failures).toEqual([]);
  expect(sentOffset.size).toBe(N);

  const consumer = new Consumer(plain(cluster));
  try {
    consumer.assign([0, 1, 2].map((partition) => ({ topic, partition, offset: Offset.BEGINNING })));
    const nextOffset = [0, 0, 0];
    const expectedByOffset = new Map<string, number>();
    for (const [i, off] of sentOffset) expectedByOffset.set(`${i % 3}:${off}`, i);
    await consumeCount(consumer, N, (m) => {
      expect(m.offset).toBe(nextOffset[m.partition]!);
      nextOffset[m.partition]!++;
      const i = expectedByOffset.get(`${m.partition}:${m.offset}`);
      expect(i).toBeDefined();
      const want = record(topic, i!);
      const wantKey = want.key == null ? null : Buffer.from(want.key);
      const wantValue = want.value == null ? null : Buffer.from(want.value);
      expect(m.key()).toEqual(wantKey);
      expect(m.value()).toEqual(wantValue);
      expect(m.timestamp()).toEqual({ timestamp: want.timestamp!, type: TimestampType.CREATE_TIME });
      const wantHeaders = (want.headers ?? []).map(([k, v]) => [k, v == null ? null : Buffer.from(v)]);
      expect(m.headers()).toEqual(wantHeaders as any);
      expect(m.leaderEpoch()).toBeGreaterThanOrEqual(0);
    });
    expect(nextOffset.reduce((a, b) => a + b, 0)).toBe(N);
  } finally {
    consumer.close();
  }
}, 240_000);
