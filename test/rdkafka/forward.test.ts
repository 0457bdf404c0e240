import { test, expect } from "bun:test";
import { Producer, Consumer, Offset } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin, consumeCount } from "../helpers.ts";
import { KEEP_OLD_TIMESTAMPS } from "../helpers.ts";

test("forwarding consumed records source → target without copying keeps key, value, headers, timestamp, partition", async () => {
  const topic = uniqueName("forward");
  const N = 20_000;
  const partitions = 4;
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions, configs: KEEP_OLD_TIMESTAMPS }]));
  await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions, configs: KEEP_OLD_TIMESTAMPS }]));

  const producer = new Producer(plain(source(), { "linger.ms": 5 }));
  for (let i = 0; i < N; i++) {
    producer.produce({
      topic, partition: i % partitions, key: i % 5 ? `k${i}` : null, value: i % 9 ? Buffer.alloc(100 + (i % 300), i & 0xff) : null,
      headers: i % 2 ? [["n", String(i)]] : undefined, timestamp: 1_700_000_000_000 + i,
    });
    if (i % 5000 === 0) producer.poll();
  }
  await producer.flush();
  await producer.close();

  // Source → target: each consumed message is handed to the target producer and freed by it
  // after its delivery report.
  const consumer = new Consumer(plain(source()));
  let forwardFailures = 0;
  const forwarder = new Producer(plain(target(), { "linger.ms": 5 }), { onDelivery: (r) => r.error && forwardFailures++ });
  consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: Offset.BEGINNING })));
  let forwarded = 0;
  const t0 = Date.now();
  while (forwarded < N) {
    if (Date.now() - t0 > 60_000) throw new Error(`forwarded ${forwarded} of ${N} in 60 s`);
    for (const m of await consumer.consume(1000, 200)) {
      if (m.errorCode) {
        m.destroy();
        continue;
      }
      while (forwarder.forward(m) === 0) {
        forwarder.poll(); // queue full: serve reports and retry
        await Bun.sleep(1);
      }
      forwarded++;
    }
  }
  await forwarder.flush();
  expect(forwarder.heldMessages).toBe(0); // every forwarded message freed after its report
  expect(forwardFailures).toBe(0);
  await forwarder.close();
  consumer.close();

  // The target holds the same records at the same offsets (the target partitions were empty).
  const readAll = async (cluster: ReturnType<typeof source>) => {
    const c = new Consumer(plain(cluster));
    const out: string[] = [];
    c.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: Offset.BEGINNING })));
    await consumeCount(c, N, (m) =>
      out.push(JSON.stringify([m.partition, m.offset, m.key()?.toString("hex") ?? null, m.value()?.toString("hex") ?? null, m.headers(), m.timestamp()])),
    );
    c.close();
    return out.sort();
  };
  const [fromSource, fromTarget] = [await readAll(source()), await readAll(target())];
  expect(fromTarget.length).toBe(N);
  expect(fromTarget).toEqual(fromSource);
}, 180_000);
