import { test, expect } from "bun:test";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import { writeMigration, klink } from "./klink-process.ts";
import { exactDigestDifferences } from "./exact-check.ts";

test("1M records across 3 topics x 4 partitions, sizes up to 1 MiB, headers, null keys and values: identical at identical offsets", async () => {
  const topics = [0, 1, 2].map((i) => uniqueName(`bulk${i}`));
  const big = { "max.message.bytes": String(2 * 1024 * 1024) };
  await withAdmin(source(), (a) => a.createTopics(topics.map((name) => ({ name, partitions: 4, configs: big }))));
  const producer = new Producer(plain(source(), { "linger.ms": 10, "message.max.bytes": 2 * 1024 * 1024 }));
  const N = 1_000_000;
  const mib = Buffer.alloc(1024 * 1024, 7);
  let seed = 1;
  const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  for (let i = 0; i < N; i++) {
    const size = i % 25_000 === 0 ? mib.length : Math.floor(random() * (random() < 0.05 ? 16_384 : 300));
    for (;;) {
      try {
        producer.produce({
          topic: topics[i % 3]!,
          key: i % 17 === 0 ? null : `key-${i % 10_000}`,
          value: i % 23 === 0 ? null : mib.subarray(0, size),
          headers: i % 4 === 0 ? [["trace", `t${i}`], ["empty", null]] : undefined,
        });
        break;
      } catch {
        producer.poll();
        await Bun.sleep(1);
      }
    }
  }
  await producer.flush(300_000);
  await producer.close();
  await withAdmin(source(), (a) => a.deleteRecords([{ topic: topics[0]!, partition: 1, offset: 5000 }])); // a trimmed start too

  const file = writeMigration({ topics, linkName: uniqueName("bulk") });
  const run = await klink(["run", file, "--until-caught-up"], 600_000);
  expect(run.stderr).not.toContain("stopped:");
  expect(run.code).toBe(0);
  for (const topic of topics) expect(await exactDigestDifferences(source(), target(), topic, 4)).toEqual([]); // read with our own consumer
  const verify = await klink(["verify", file, "--json"], 600_000);
  const result = JSON.parse(verify.stdout);
  expect(result.identical).toBe(true);
  expect(result.partitions.reduce((n: number, p: any) => n + p.compared, 0)).toBe(N - 5000);
  for (const p of result.partitions) {
    expect(p.target.logStartOffset).toBe(p.source.logStartOffset);
    expect(p.target.end).toBe(p.source.end);
  }
}, 900_000);
