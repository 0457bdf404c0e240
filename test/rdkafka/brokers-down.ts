/**
 * Run by log-repeats.test.ts as its own process (its stderr is what is checked): a consumer whose
 * only broker does not answer reads for `ms`, then closes; librdkafka queues an "all brokers are
 * down" error per read meanwhile and logs them all at close.
 * Usage: bun brokers-down.ts <closed bootstrap> <ms>
 */
import { Consumer, Offset } from "../../src/rdkafka/index.ts";

const [bootstrap, ms] = process.argv.slice(2) as [string, string];
// Reconnect every 10 ms: many failed attempts, each a queued error (librdkafka's backoff, up to
// 10 s, would leave a handful in 5 s since the reconnect-backoff patch).
const consumer = new Consumer({ "bootstrap.servers": bootstrap, "group.id": "brokers-down", "reconnect.backoff.ms": 10, "reconnect.backoff.max.ms": 10 });
consumer.assign([{ topic: "nowhere", partition: 0, offset: Offset.BEGINNING }]);
for (const end = Date.now() + Number(ms); Date.now() < end; ) await consumer.consume(10, 200);
consumer.close();
console.log("closed");
