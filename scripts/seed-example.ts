/**
 * A seeded workload for the example: topics `orders` (4 partitions) and `payments` (2, compacted)
 * on the source, 200,000 keyed records with headers, some retention-trimmed, and a consumer
 * group `billing` with committed offsets.
 */
import { Admin, Producer, Consumer } from "../src/rdkafka/index.ts";

const bootstrap = process.env.KLINK_SOURCE_BOOTSTRAP!;
const admin = new Admin({ "bootstrap.servers": bootstrap });
await admin.createTopics([
  { name: "orders", partitions: 4 },
  { name: "payments", partitions: 2, configs: { "cleanup.policy": "compact" } },
]);
const producer = new Producer({ "bootstrap.servers": bootstrap, "linger.ms": 5 });
let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
for (let i = 0; i < 200_000; i++) {
  const topic = i % 4 === 3 ? "payments" : "orders";
  const value = Buffer.alloc(100 + Math.floor(random() * 900), 97 + (i % 26));
  for (;;) {
    try {
      producer.produce({ topic, key: `customer-${Math.floor(random() * 5000)}`, value, headers: [["source", "example"], ["seq", String(i)]] });
      break;
    } catch {
      producer.poll();
      await Bun.sleep(1);
    }
  }
}
await producer.flush();
await producer.close();
// Retention took the first 1,000 records of orders[0]: the target must start there too.
await admin.deleteRecords([{ topic: "orders", partition: 0, offset: 1000 }]);
// A consumer group that has read half of orders.
const consumer = new Consumer({ "bootstrap.servers": bootstrap, "group.id": "billing" });
const half = await admin.watermarks([0, 1, 2, 3].map((partition) => ({ topic: "orders", partition })));
// A fresh cluster's group coordinator may still be loading (NOT_COORDINATOR and the like): ask again.
for (let attempt = 1; ; attempt++) {
  try {
    consumer.commit(half.map((w) => ({ topic: "orders", partition: w.partition, offset: Math.floor((w.low + w.high) / 2) })));
    break;
  } catch (err) {
    if (attempt === 30 || ![14, 15, 16].includes((err as { code?: number }).code ?? 0)) throw err;
    await Bun.sleep(1_000);
  }
}
consumer.close();
admin.close();
console.log("seeded: orders (4 partitions), payments (2, compacted), 200,000 records; group billing at half of orders");
