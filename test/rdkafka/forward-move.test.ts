/**
 * `Producer.forward(message)` is a move: once librdkafka accepted the record, the producer owns
 * the native message until its delivery report, and the ConsumedMessage can no longer be read or
 * freed. A refused forward leaves the message with the caller.
 */
import { test, expect } from "bun:test";
import { join } from "node:path";
import { Producer, Consumer, Offset, KafkaError, ErrorCode, type ConsumedMessage, type Header } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin, consumeCount } from "../helpers.ts";

/** A topic on both clusters (1 partition) holding `count` records with key, value and headers on the source. */
async function sourceRecords(prefix: string, count: number): Promise<string> {
  const topic = uniqueName(prefix);
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  const producer = new Producer(plain(source()));
  for (let i = 0; i < count; i++) producer.produce({ topic, partition: 0, key: `k${i}`, value: `v${i}`.repeat(100), headers: [["h", `${i}`]] });
  await producer.flush();
  await producer.close();
  return topic;
}

/** The first `count` records of partition 0, still owned by the caller. */
async function consumeOwned(consumer: Consumer, topic: string, count: number): Promise<ConsumedMessage[]> {
  consumer.assign([{ topic, partition: 0, offset: Offset.BEGINNING }]);
  const out: ConsumedMessage[] = [];
  while (out.length < count) for (const m of await consumer.consume(count - out.length, 200)) out.push(m);
  return out;
}

async function readTarget(topic: string, count: number): Promise<string[]> {
  const c = new Consumer(plain(target()));
  c.assign([{ topic, partition: 0, offset: Offset.BEGINNING }]);
  const out: string[] = [];
  await consumeCount(c, count, (m) => out.push(`${m.offset} ${m.key()} ${m.value()!.subarray(0, 4)} ${JSON.stringify(m.headers())}`));
  c.close();
  return out;
}

const expected = (count: number) =>
  Array.from({ length: count }, (_, i) => `${i} k${i} ${`v${i}`.repeat(100).slice(0, 4)} ${JSON.stringify([["h", Buffer.from(`${i}`)]])}`);

test("after an accepted forward the message cannot be read, its destroy() does nothing, and the producer frees it after delivery", async () => {
  const topic = await sourceRecords("move", 3);
  const consumer = new Consumer(plain(source()));
  const forwarder = new Producer(plain(target(), { "linger.ms": 200 }));
  const messages = await consumeOwned(consumer, topic, 3);
  for (const m of messages) {
    expect(m.offset).toBeGreaterThanOrEqual(0); // read what is needed before forward
    expect(forwarder.forward(m, topic)).toBeGreaterThan(0);
    expect(m.owned).toBe(false);
    expect(() => m.offset).toThrow(`moved to producer ${forwarder.name} by forward()`);
    expect(() => m.value()).toThrow("moved to producer");
    expect(() => m.headers()).toThrow("moved to producer");
    expect(() => forwarder.forward(m, topic)).toThrow("moved to producer");
    m.destroy(); // a cleanup path may call it: it must not free what the producer still sends
  }
  expect(forwarder.heldMessages).toBe(3);
  await forwarder.flush();
  expect(forwarder.heldMessages).toBe(0); // freed after their delivery reports
  await forwarder.close();
  consumer.close(); // returns: every message of the consumer is freed
  expect(await readTarget(topic, 3)).toEqual(expected(3));
}, 120_000);

test("destroy() right after forward does not free what librdkafka still sends (freed memory poisoned)", async () => {
  const topic = uniqueName("move-poison");
  const count = 200;
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  // MALLOC_PERTURB_ makes glibc overwrite freed memory: a payload freed before it was sent
  // reaches the target as filler bytes instead of silently surviving in freed memory.
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "forward-then-destroy.ts"), source().bootstrap, target().bootstrap, topic, String(count)], {
    env: { ...process.env, MALLOC_PERTURB_: "165" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const killer = setTimeout(() => proc.kill("SIGKILL"), 150_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(killer);
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  expect(JSON.parse(stdout)).toEqual({ differing: [] });
}, 180_000);

test("a forward refused (queue full, or an error) leaves the message with the caller, headers included", async () => {
  const topic = await sourceRecords("move-refused", 2);
  const consumer = new Consumer(plain(source()));
  // One record fills the queue; linger keeps it queued.
  const forwarder = new Producer(plain(target(), { "queue.buffering.max.messages": 1, "linger.ms": 1000 }));
  const [first, second] = await consumeOwned(consumer, topic, 2);
  const header: Header[] = [["h", Buffer.from("1")]];

  forwarder.refreshMetadata(topic);
  const refused = (() => {
    try {
      forwarder.forward(second!, topic, 7); // the topic has one partition
    } catch (e) {
      return e as KafkaError;
    }
  })();
  expect(refused).toBeInstanceOf(KafkaError);
  expect(refused!.code).toBe(ErrorCode.UNKNOWN_PARTITION);
  expect(second!.owned).toBe(true);
  expect([second!.offset, second!.key()!.toString(), second!.headers()]).toEqual([1, "k1", header]); // headers given back

  expect(forwarder.forward(first!, topic)).toBeGreaterThan(0);
  expect(forwarder.forward(second!, topic)).toBe(0); // queue full
  expect(second!.owned).toBe(true);
  expect([second!.offset, second!.headers()]).toEqual([1, header]);

  second!.destroy(); // still the caller's: this frees it
  expect(() => second!.offset).toThrow("was destroyed");
  await forwarder.flush();
  await forwarder.close();
  consumer.close();
  expect(await readTarget(topic, 1)).toEqual(expected(1));
}, 120_000);
