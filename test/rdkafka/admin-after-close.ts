/**
 * Run by admin-close.test.ts as its own process (a use of a freed librdkafka handle crashes it):
 * closes Admins while requests are in flight and while a retrying request waits, then asks a
 * closed Admin again; prints one line per outcome and "done".
 * Usage: bun admin-after-close.ts <bootstrap> <topic>
 */
import { Admin, KafkaError } from "../../src/rdkafka/index.ts";

const [bootstrap, topic] = process.argv.slice(2) as [string, string];
const outcome = (p: Promise<unknown>) => p.then(() => "answered", (e) => (e instanceof KafkaError ? `refused ${e.codeName}` : `error ${e}`));

for (let i = 0; i < 20; i++) {
  const admin = new Admin({ "bootstrap.servers": bootstrap });
  const inFlight = outcome(admin.watermarks([{ topic, partition: 0 }, { topic, partition: 1 }]));
  await Bun.sleep(i % 5); // closed at different moments of the request
  admin.close();
  const late = outcome(admin.listOffsets([{ topic, partition: 0, offset: -1 }]));
  console.log(`in flight: ${await inFlight}; after close: ${await late}`);
}
console.log("done");
