/**
 * limits.memory on real Kafka: with a limit far below what a compressible backlog takes once
 * decompressed, fetching pauses (librdkafka drops what it had prefetched) and resumes, and the copy
 * still completes as an exact copy. Small partitions reach their end early, so a pause is likely to
 * drop their queued end-of-partition events, which exact mode waits for to write their last records
 * (librdkafka sends them again after the resume: test/rdkafka/pause-eof.test.ts).
 */
import { test, expect } from "bun:test";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import { writeMigration, klink } from "./klink-process.ts";
import { exactDifferences } from "./exact-check.ts";

const BIG = 4; // partitions 0..3: 30 MB each, compressed about 400×
const SMALL = 4; // partitions 4..7: three records each
const BIG_RECORDS = 30_000;

test("a memory limit below a compressible backlog's size: fetching pauses and resumes, and the target is an exact copy", async () => {
  const topic = uniqueName("memory-limit");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: BIG + SMALL, configs: { "retention.ms": "-1" } }]));
  const producer = new Producer(plain(source(), { "linger.ms": 50, "batch.size": 1_048_576, "compression.type": "zstd" }));
  const value = Buffer.alloc(1024, 0x61);
  for (let i = 0; i < BIG * BIG_RECORDS; i++) {
    for (;;) {
      try {
        producer.produce({ topic, partition: i % BIG, key: `k${i}`, value });
        break;
      } catch {
        producer.poll();
        await Bun.sleep(1);
      }
    }
  }
  for (let p = BIG; p < BIG + SMALL; p++) for (let i = 0; i < 3; i++) producer.produce({ topic, partition: p, key: `small${p}-${i}`, value: `v${i}` });
  await producer.flush(120_000);
  await producer.close();

  try {
    const file = writeMigration({ topics: [topic], linkName: uniqueName("memory"), offsets: "exact", extra: "limits:\n  memory: 160MiB\n  inFlightBytes: 16MiB\n" });
    const run = await klink(["run", file, "--until-caught-up"], 300_000);
    if (run.code !== 0) console.error(run.stderr.slice(-4000));
    expect(run.stderr).not.toContain("stopped:");
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("memory: pausing fetching");
    expect(run.stderr).toContain("memory: resuming fetching");
    expect(await exactDifferences(source(), target(), topic, BIG + SMALL)).toEqual([]);
  } finally {
    await withAdmin(source(), (a) => a.deleteTopics([topic]));
    await withAdmin(target(), (a) => a.deleteTopics([topic])).catch(() => {});
  }
}, 600_000);
