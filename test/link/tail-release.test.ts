/**
 * The last record read from a partition is written as soon as the fetch that carried it shows
 * nothing follows it (its high watermark), not when the next fetch reports the partition's end:
 * that next fetch waits on the broker up to fetch.wait.max.ms for new records (the 510-ms maximum
 * latency in bench/results/2026-11-26.md). The source's long poll is set to 4 minutes here, so
 * a record that waited for it would not reach the target within the test's minute.
 */
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { Producer } from "../../src/rdkafka/index.ts";
import { plain, source, target, uniqueName, until, withAdmin } from "../helpers.ts";
import { KlinkRun, stopAllKlinks, writeMigration } from "./klink-process.ts";

afterAll(stopAllKlinks);

const LONG_POLL = "fetch.wait.max.ms: 240000, socket.timeout.ms: 300000";

async function produceOne(topic: string, i: number): Promise<void> {
  const producer = new Producer(plain(source()));
  producer.produce({ topic, partition: 0, key: `k${i}`, value: `v${i}` });
  await producer.flush();
  await producer.close();
}

const targetEnd = async (topic: string) => (await withAdmin(target(), (a) => a.watermarks([{ topic, partition: 0 }])))[0]!.high;

test("a partition's last record is written without waiting for the next fetch", async () => {
  const topic = uniqueName("tail-release");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  const file = writeMigration({ topics: [topic], linkName: uniqueName("tail-release"), offsets: "exact" });
  const yaml = readFileSync(file, "utf8").replace(`source: { bootstrap: "${source().bootstrap}" }`, `source: { bootstrap: "${source().bootstrap}", librdkafka: { ${LONG_POLL} } }`);
  expect(yaml).toContain(LONG_POLL);
  writeFileSync(file, yaml);

  const run = new KlinkRun(file);
  await until("klink mirrors the topic", () => run.output.includes("mirroring 1 topic"), 120_000, run);
  for (let i = 0; i < 3; i++) {
    await produceOne(topic, i);
    await until(`record ${i} on the target (its fetch showed nothing after it)`, async () => (await targetEnd(topic)) === i + 1, 60_000, run);
  }
  await run.stop();
}, 400_000);
