/**
 * The lag while the target does not answer: records klink read and handed to its producer, but
 * that the target never acknowledged, are lag (status showed lag 0 while the target was down).
 * The target's only broker is paused (SIGSTOP), on a cluster of this test's own.
 */
import { afterAll, expect, test } from "bun:test";
import { Producer } from "../../src/rdkafka/index.ts";
import { startCluster, stopCluster, type KafkaCluster } from "../harness/cluster.ts";
import { plain, source, uniqueName, withAdmin } from "../helpers.ts";
import { klink, KlinkRun, stopAllKlinks, writeMigration } from "./klink-process.ts";

let own: KafkaCluster | null = null;
let paused = false;

afterAll(async () => {
  if (own && paused) for (const b of own.brokers) process.kill(b.pid, "SIGCONT");
  await stopAllKlinks();
  if (own) await stopCluster(own);
});

async function produce(topic: string, from: number, count: number): Promise<void> {
  const producer = new Producer(plain(source()));
  for (let i = from; i < from + count; i++) producer.produce({ topic, partition: 0, key: `k${i}`, value: `v${i}` });
  await producer.flush();
  await producer.close();
}

/** The topic's lag as `klink status` prints it. */
async function lag(file: string): Promise<number> {
  const r = await klink(["status", file]);
  const m = / lag (\d+)/.exec(r.stdout);
  if (!m) throw new Error(`no lag in klink status: ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

test("records the paused target has not acknowledged count as lag", async () => {
  own = await startCluster({ name: "lag-paused-target", version: "4.3.1" });
  const topic = uniqueName("lag-paused");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  await produce(topic, 0, 100);
  const file = writeMigration({ topics: [topic], linkName: uniqueName("lag-paused"), to: own });
  const run = new KlinkRun(file);
  for (let i = 0; !run.output.includes("mirroring 1 topic") && i < 1200 && !run.exited; i++) await Bun.sleep(100);
  for (let i = 0; i < 600 && (await lag(file)) > 0; i++) await Bun.sleep(200);
  expect(await lag(file)).toBe(0);

  for (const b of own.brokers) process.kill(b.pid, "SIGSTOP");
  paused = true;
  await produce(topic, 100, 500);
  await Bun.sleep(5_000); // klink reads them and hands them to its producer, which cannot deliver
  expect(await lag(file)).toBe(500);

  for (const b of own.brokers) process.kill(b.pid, "SIGCONT");
  paused = false;
  for (let i = 0; i < 1200 && (await lag(file)) > 0; i++) await Bun.sleep(200);
  expect(await lag(file)).toBe(0);
  await run.stop();
}, 600_000);
