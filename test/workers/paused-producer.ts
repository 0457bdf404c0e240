/**
 * A librdkafka producer that is paused with records queued, for lease-expiry.test.ts: it queues
 * records (held by linger.ms), says so, and — once the test has paused and resumed it — reports
 * each record's delivery, then writes one record more and exits.
 *
 *   bun test/workers/paused-producer.ts BOOTSTRAP TOPIC COUNT MESSAGE_TIMEOUT_MS
 */
import { Producer } from "../../src/rdkafka/index.ts";

const [bootstrap, topic, count, timeout] = process.argv.slice(2);
const print = (event: object) => process.stdout.write(JSON.stringify({ t: Date.now(), ...event }) + "\n");
const reports: string[] = [];
const producer = new Producer(
  { "bootstrap.servers": bootstrap!, "enable.idempotence": true, acks: "all", "linger.ms": 1_500, "message.timeout.ms": Number(timeout) },
  { onDelivery: (r) => reports.push(r.error ? r.error.codeName : `offset ${r.offset}`) },
);
// connected and holding a producer id before anything is queued
producer.produce({ topic: topic!, partition: 0, key: "first", value: "before the pause" });
await producer.flush();
for (let i = 0; i < Number(count); i++) producer.produce({ topic: topic!, partition: 0, key: `queued-${i}`, value: "queued when the process was paused" });
print({ type: "queued" });
await producer.flush();
print({ type: "reports", reports: reports.slice(1) });
// one record more, where the queued ones would have gone (tried again if the machine was too slow for its timeout)
for (let attempt = 0; attempt < 5 && (attempt === 0 || reports.at(-1) === "_MSG_TIMED_OUT"); attempt++) {
  producer.produce({ topic: topic!, partition: 0, key: "after", value: "after the pause" });
  await producer.flush();
}
print({ type: "done", last: reports.at(-1) });
await producer.close();
