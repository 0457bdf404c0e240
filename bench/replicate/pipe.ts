/**
 * The raw pipe: a librdkafka consumer feeding a librdkafka producer through klink's binding, with
 * no logic at all (no offset checks, no hole filling, no state, no progress). It is the ceiling
 * for any librdkafka-based replicator on this machine. Runs as its own process so its CPU and
 * memory can be read from /proc like the other tools'; stops on SIGTERM after flushing.
 *
 *   bun bench/replicate/pipe.ts '{"source":"h:p","target":"h:p","topic":"t","partitions":12,"compression":"lz4"}'
 *
 * Client settings are the Fetcher's own with klink's default limits (copyingConsumer,
 * FORWARD_PRODUCER from src/config/copying-clients.ts), so the difference to klink is the Fetcher's
 * own work.
 */
import { Consumer, Producer, Offset } from "../../src/rdkafka/index.ts";
import { copyingConsumer, FORWARD_PRODUCER, QUEUE_FULL_WAIT_MS } from "../../src/config/copying-clients.ts";

interface PipeOptions {
  source: string;
  target: string;
  topic: string;
  partitions: number;
  compression: string;
  /** extra consumer settings (what-if runs) */
  consumer?: Record<string, string | number>;
}

const o = JSON.parse(process.argv[2] ?? "{}") as PipeOptions;
let failures = 0;
const consumer = new Consumer({ "bootstrap.servers": o.source, ...copyingConsumer({ maxInFlightBytes: 256 * 2 ** 20, memoryBytes: 2 ** 30 }), ...o.consumer });
const producer = new Producer(
  { "bootstrap.servers": o.target, ...FORWARD_PRODUCER, "compression.type": o.compression },
  { onDelivery: (r) => r.error && failures++ },
);
consumer.assign(Array.from({ length: o.partitions }, (_, partition) => ({ topic: o.topic, partition, offset: Offset.BEGINNING })));

let stopping = false;
process.on("SIGTERM", () => (stopping = true));
process.on("SIGINT", () => (stopping = true));

let idle = 0;
while (!stopping) {
  const messages = consumer.consumeBatch(2000, 0);
  if (messages.length === 0) {
    producer.poll();
    await Bun.sleep(Math.min(++idle, 10));
    continue;
  }
  idle = 0;
  for (const m of messages) {
    if (m.errorCode) {
      m.destroy();
      continue;
    }
    while (producer.forward(m) === 0) producer.poll(QUEUE_FULL_WAIT_MS); // queue full: wait for delivery reports, as the Fetcher does
  }
  producer.poll();
}
await producer.close();
consumer.close();
if (failures) console.error(`pipe: ${failures} delivery failures`);
process.exit(failures ? 1 : 0);
