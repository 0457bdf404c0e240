/**
 * Run by message-census.test.ts as its own process (a consumer close that waits for a message
 * never freed blocks the JS thread): consumes the 3 records of partition 0, frees them as `mode`
 * says, closes the consumer and prints "closed".
 *   destroy-all        destroys every message
 *   forward-all        forwards every message to the same topic on the target, closes that producer
 *   leak-one           never destroys the message at offset 1
 *   forward-unflushed  forwards every message, closes the consumer before the producer delivered
 * Usage: bun consume-then-close.ts <source bootstrap> <target bootstrap> <topic> <mode>
 */
import { Consumer, Producer, Offset, type ConsumedMessage } from "../../src/rdkafka/index.ts";

const [sourceBootstrap, targetBootstrap, topic, mode] = process.argv.slice(2) as [string, string, string, string];
const consumer = new Consumer({ "bootstrap.servers": sourceBootstrap });
consumer.assign([{ topic, partition: 0, offset: Offset.BEGINNING }]);
const messages: ConsumedMessage[] = [];
while (messages.length < 3) messages.push(...(await consumer.consume(3 - messages.length, 200)));

const producer = new Producer({ "bootstrap.servers": targetBootstrap, "linger.ms": 1000 });
for (const m of messages) {
  if (mode === "leak-one" && m.offset === 1) continue;
  if (mode.startsWith("forward")) while (producer.forward(m) === 0) producer.poll();
  else m.destroy();
}
if (mode === "forward-all") await producer.close();
consumer.close();
console.log("closed");
await producer.close();
