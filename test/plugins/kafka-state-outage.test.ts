/**
 * storage: kafka keeps klink's state in a topic on the target. A target that did not answer for
 * longer than one state write's 30 s (a broker restart takes that long on a loaded machine:
 * nemesis seed 142) failed the write with "whether the last write was stored is unknown", and
 * klink exited. librdkafka resumes a flush and a commit that timed out, so klink now waits
 * longer for them and goes on when the target is back. Translate mode, so that every copy is a
 * state write (an offset-map row); the target's only broker is paused (SIGSTOP) for 50 s while
 * records flow, on a cluster of this test's own; the oracle reads both clusters' end offsets.
 */
import { afterAll, expect, test } from "bun:test";
import { startCluster, stopCluster, type KafkaCluster } from "../harness/cluster.ts";
import { source, uniqueName, until, withAdmin } from "../helpers.ts";
import { KlinkRun, stopAllKlinks, steadyProducer, writeMigration } from "../link/klink-process.ts";

let own: KafkaCluster | null = null;
let paused = false;

afterAll(async () => {
  if (own && paused) for (const b of own.brokers) process.kill(b.pid, "SIGCONT");
  await stopAllKlinks();
  if (own) await stopCluster(own);
});

const end = async (c: KafkaCluster, topic: string) => (await withAdmin(c, (a) => a.watermarks([{ topic, partition: 0 }])))[0]!.high;

test("storage: kafka rides out a target that does not answer for 50 s while records flow: klink goes on and copies everything", async () => {
  own = await startCluster({ name: "kafka-state-outage", version: "4.3.1" });
  const topic = uniqueName("state-outage");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  const file = writeMigration({ topics: [topic], linkName: uniqueName("state-outage"), to: own, offsets: "translate", extra: "storage:\n  plugin: kafka\n" });
  const run = new KlinkRun(file);
  const load = steadyProducer(source(), topic, 1);
  await until("records on the target", async () => (await end(own!, topic).catch(() => 0)) > 100, 120_000, run);

  for (const b of own.brokers) process.kill(b.pid, "SIGSTOP");
  paused = true;
  await Bun.sleep(50_000);
  for (const b of own.brokers) process.kill(b.pid, "SIGCONT");
  paused = false;
  const sent = await load.stop();

  await until(`all ${sent} records on the target`, async () => (await end(own!, topic).catch(() => 0)) === sent, 180_000, run);
  expect(run.output).not.toContain("whether the last write was stored is unknown");
  await run.stop();
  expect(run.proc.exitCode).toBe(0);
}, 600_000);
