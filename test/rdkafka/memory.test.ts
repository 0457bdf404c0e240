import { test, expect } from "bun:test";
import { Producer, Consumer, Offset } from "../../src/rdkafka/index.ts";
import { target, plain, uniqueName, withAdmin, consumeCount } from "../helpers.ts";

// Native memory is what leaks in a binding: a message or headers list not freed, a buffer kept
// alive. Produce and consume 1M records in 5 rounds; after the first round RSS must not keep
// growing with the number of records (a leak of even 100 bytes per record would add ~80 MiB).
test("1M records produced and consumed keep RSS flat", async () => {
  const cluster = target();
  const topic = uniqueName("memory");
  const partitions = 4;
  await withAdmin(cluster, (a) => a.createTopics([{ name: topic, partitions }]));
  const producer = new Producer(plain(cluster, { "linger.ms": 5 }));
  const consumer = new Consumer(plain(cluster));
  consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: Offset.BEGINNING })));
  const value = Buffer.alloc(100, 7);
  const rss: number[] = [];
  try {
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 200_000; i++) {
        for (;;) {
          try {
            producer.produce({ topic, partition: i % partitions, key: `k${i}`, value, headers: [["round", String(round)]] });
            break;
          } catch (e: any) {
            if (e.code !== -184) throw e;
            producer.poll();
            await Bun.sleep(1);
          }
        }
      }
      await producer.flush();
      let bytes = 0;
      await consumeCount(consumer, 200_000, (m) => {
        bytes += m.value()!.length + m.headers().length;
      });
      expect(bytes).toBe(200_000 * 101);
      Bun.gc(true);
      rss.push(process.memoryUsage().rss);
    }
  } finally {
    await producer.close();
    consumer.close();
  }
  // RSS swings by ~50 MiB between rounds (the allocator keeps freed pages for a while): a leak
  // shows as the last round above the highest of the first two, not as one round above another.
  const growthMiB = (rss[4]! - Math.max(rss[0]!, rss[1]!)) / 2 ** 20;
  console.log(`RSS after each 200k round (MiB): ${rss.map((r) => (r / 2 ** 20).toFixed(0)).join(", ")}`);
  expect(growthMiB).toBeLessThan(40);
}, 300_000);
