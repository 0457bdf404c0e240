/**
 * A librdkafka consumer in a process of its own (a crash of librdkafka must not take the test
 * runner with it): subscribes with the given assignor and prints "assigned N" whenever its
 * assignment changes, until SIGTERM.
 *   bun test/group/coop-consumer.ts BOOTSTRAP GROUP TOPIC ASSIGNOR
 */
import { Consumer } from "../../src/rdkafka/index.ts";

const [bootstrap, group, topic, assignor] = process.argv.slice(2) as [string, string, string, string];
const consumer = new Consumer({ "bootstrap.servers": bootstrap, "group.id": group, "partition.assignment.strategy": assignor, "auto.offset.reset": "earliest" });
consumer.subscribe([topic]);
let stopped = false;
process.on("SIGTERM", () => (stopped = true));
let said = -1;
while (!stopped) {
  for (const m of await consumer.consume(100, 100)) m.destroy();
  const n = consumer.assignment().length;
  if (n !== said) console.log(`assigned ${(said = n)}`);
}
consumer.close();
