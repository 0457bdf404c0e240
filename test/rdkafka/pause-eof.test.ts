/**
 * What limits.memory relies on (src/link/memory-guard.ts): pausing a partition drops what librdkafka
 * had queued for it, end-of-partition events included, and after a resume librdkafka sends the
 * end-of-partition event again once it reaches the end (the pause's version barrier resets its
 * "end already reported" mark). The exact-mode data path waits for that event to write the last
 * record of an idle partition: if librdkafka stopped sending it again, a pause at the wrong moment
 * would hold that record until more records came.
 */
import { test, expect } from "bun:test";
import { Consumer, Producer, Offset, type ConsumedMessage } from "../../src/rdkafka/index.ts";
import { source, plain, uniqueName, withAdmin } from "../helpers.ts";

function describe(messages: ConsumedMessage[]): string[] {
  return messages.map((m) => {
    const s = `${m.isPartitionEof ? "end" : "record"} ${m.partition}@${m.offset}`;
    m.destroy();
    return s;
  });
}

/** Consumes until `until` messages came (never more) or `ms` passed. */
async function take(consumer: Consumer, until: number, ms: number): Promise<string[]> {
  const out: string[] = [];
  const deadline = performance.now() + ms;
  while (out.length < until && performance.now() < deadline) out.push(...describe(await consumer.consume(until - out.length, 100)));
  return out;
}

test("a pause drops queued end-of-partition events, and they come again after resume", async () => {
  const topic = uniqueName("pause-eof");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  const producer = new Producer(plain(source()));
  for (let i = 0; i < 3; i++) producer.produce({ topic, partition: 0, value: `v${i}` });
  await producer.flush(10_000);
  await producer.close();

  const consumer = new Consumer(plain(source(), { "enable.partition.eof": true }));
  const partitions = [{ topic, partition: 0 }];
  try {
    consumer.assign(partitions.map((p) => ({ ...p, offset: Offset.BEGINNING })));
    // The three records, read while the end event is queued behind them.
    expect(await take(consumer, 3, 10_000)).toEqual(["record 0@0", "record 0@1", "record 0@2"]);
    await Bun.sleep(1000);
    consumer.pause(partitions);
    expect(await take(consumer, 1, 1000)).toEqual([]); // dropped
    consumer.resume(partitions);
    expect(await take(consumer, 1, 10_000)).toEqual(["end 0@3"]);
  } finally {
    consumer.close();
    await withAdmin(source(), (a) => a.deleteTopics([topic]));
  }
}, 60_000);
