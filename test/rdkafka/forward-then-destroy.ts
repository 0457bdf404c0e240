/**
 * Run by forward-move.test.ts as its own process, with MALLOC_PERTURB_ set so that memory freed
 * by librdkafka is overwritten at once: forwards `count` records of 4 KiB from the source topic
 * to the same topic on the target and calls destroy() on each message right after forward (as
 * a cleanup path may), while the producer lingers. Prints the target's records that differ from
 * what was produced, as JSON.
 * Usage: bun forward-then-destroy.ts <source bootstrap> <target bootstrap> <topic> <count>
 */
import { Consumer, Producer, Offset } from "../../src/rdkafka/index.ts";

const [sourceBootstrap, targetBootstrap, topic, countArg] = process.argv.slice(2) as [string, string, string, string];
const count = Number(countArg);
const valueOf = (i: number) => Buffer.alloc(4096, i & 0xff);

const producer = new Producer({ "bootstrap.servers": sourceBootstrap });
for (let i = 0; i < count; i++) producer.produce({ topic, partition: 0, key: `k${i}`, value: valueOf(i) });
await producer.flush();
await producer.close();

const consumer = new Consumer({ "bootstrap.servers": sourceBootstrap });
consumer.assign([{ topic, partition: 0, offset: Offset.BEGINNING }]);
const forwarder = new Producer({ "bootstrap.servers": targetBootstrap, "linger.ms": 300 });
for (let forwarded = 0; forwarded < count; ) {
  for (const m of await consumer.consume(1000, 200)) {
    if (m.errorCode === 0) {
      while (forwarder.forward(m) === 0) forwarder.poll();
      forwarded++;
    }
    m.destroy(); // after an accepted forward: must not free what librdkafka is about to send
  }
}
await forwarder.flush();
await forwarder.close();
consumer.close();

const reader = new Consumer({ "bootstrap.servers": targetBootstrap });
reader.assign([{ topic, partition: 0, offset: Offset.BEGINNING }]);
const differing: number[] = [];
for (let read = 0; read < count; ) {
  for (const m of await reader.consume(1000, 200)) {
    if (m.errorCode === 0) {
      if (!m.value()!.equals(valueOf(m.offset)) || m.key()!.toString() !== `k${m.offset}`) differing.push(m.offset);
      read++;
    }
    m.destroy();
  }
}
reader.close();
console.log(JSON.stringify({ differing }));
