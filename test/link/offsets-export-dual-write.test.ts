/**
 * The offset export after a dual-write switch (issue 18): the offsets below the switch stayed
 * identical, and the export says so in a row (origin identical-below-here) next to the map's rows.
 */
import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, until, withAdmin } from "../helpers.ts";
import { KlinkRun, klink, stopAllKlinks, writeMigration } from "./klink-process.ts";

afterAll(stopAllKlinks);

async function produce(cluster: ReturnType<typeof source>, topic: string, from: number, to: number): Promise<void> {
  const producer = new Producer(plain(cluster));
  for (let i = from; i < to; i++) producer.produce({ topic, partition: 0, key: `k${i}`, value: `v${i}` });
  await producer.flush();
  await producer.close();
}

const high = async (cluster: ReturnType<typeof source>, topic: string) => (await withAdmin(cluster, (a) => a.watermarks([{ topic, partition: 0 }])))[0]!.high;

test("offsets export keeps the identical offsets below a dual-write switch", async () => {
  const topic = uniqueName("export-dual-write");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  await produce(source(), topic, 0, 50);
  const file = writeMigration({ topics: [topic], linkName: uniqueName("export-dual-write") });
  const run = new KlinkRun(file);
  await until("the 50 records copied", async () => (await high(target(), topic).catch(() => 0)) === 50, 90_000, run);
  await produce(target(), topic, 50, 60); // a producer on the target: dual write from target offset 50
  await until("the target's records routed to the source", async () => (await high(source(), topic)) === 60, 90_000, run);
  await run.stop();

  const csv = join(dirname(file), "map.csv");
  expect((await klink(["offsets", "export", file, "--format", "csv", "--out", csv])).code).toBe(0);
  const lines = readFileSync(csv, "utf8").trim().split("\n").filter((l) => l.startsWith(`${topic},`));
  expect(lines[0]).toBe(`${topic},0,translate,50,50,identical-below-here`);
  expect(lines.slice(1)).toEqual(Array.from({ length: 10 }, (_, i) => `${topic},0,translate,${50 + i},${50 + i},target`));
}, 300_000);
