/**
 * Health of a running klink (issue 13, items 3 and 4): /healthz answers while the process serves;
 * /readyz is 503 with the reasons while klink starts and while a partition is stopped; `klink
 * status` exits 2 when a partition is stopped, shows its true lag (growing while producers write
 * to the source, read from the source's end offsets) and what to do about the stop; once the
 * cause is fixed `klink resume` starts the partition again without restarting klink.
 */
import { test, expect, afterAll } from "bun:test";
import { readFileSync } from "node:fs";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import { writeMigration, KlinkRun, klink, stopAllKlinks } from "./klink-process.ts";

afterAll(stopAllKlinks);

async function produce(topic: string, partition: number, values: Buffer[]): Promise<void> {
  const p = new Producer(plain(source(), { "linger.ms": 5 }));
  for (const value of values) p.produce({ topic, partition, value });
  await p.flush();
  await p.close();
}

test("readyz says why klink is not ready (starting, a stopped partition); status shows a stopped partition's true lag and the fix, and exits 2; resume continues it", async () => {
  const topic = uniqueName("health");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 2, configs: { "max.message.bytes": "200000" } }]));
  await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 2, configs: { "max.message.bytes": "20000" } }]));
  const small = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`v${i}`));
  await produce(topic, 0, [...small(100), Buffer.alloc(100_000, 1), ...small(50)]); // offset 100 is too large for the target
  await produce(topic, 1, small(100));

  const file = writeMigration({ topics: [topic], linkName: uniqueName("health") });
  const listen = /listen: (\S+)/.exec(readFileSync(file, "utf8"))![1]!;
  const get = async (path: string) => {
    try {
      const res = await fetch(`http://${listen}${path}`);
      return { code: res.status, body: (await res.json()) as any };
    } catch {
      return null; // not listening yet
    }
  };
  const run = new KlinkRun(file);
  let first = null;
  while (!first) first = await get("/readyz");
  expect(first.code).toBe(503);
  expect(first.body.reasons[0]).toStartWith("starting");
  expect((await get("/healthz"))!.code).toBe(200);

  let ready = first;
  while (!ready.body.reasons.some((r: string) => r.startsWith(`${topic}[0] stopped`))) {
    await Bun.sleep(200);
    ready = (await get("/readyz"))!;
  }
  expect(ready.code).toBe(503);
  expect(ready.body.ready).toBe(false);
  expect(ready.body.reasons).toEqual([expect.stringContaining(`${topic}[0] stopped: record at offset 100 is 100000 bytes`)]);
  expect(ready.body.reasons[0]).toContain("raise max.message.bytes on the target topic");
  expect((await get("/healthz"))!.code).toBe(200);

  // Producers go on writing to the stopped partition: its lag grows past what klink saw at the stop.
  await produce(topic, 0, small(30));
  let status = await klink(["status", file]);
  while (!status.stdout.includes(`${topic}[0] STOPPED at source offset 100, lag 81:`)) {
    await Bun.sleep(500);
    status = await klink(["status", file]);
  }
  expect(status.code).toBe(2);
  expect(status.stdout).toContain(`${topic} (mirroring): 2 partitions, 200 records`);
  expect(status.stdout).toContain("lag 81");
  expect(status.stdout).toContain("1 STOPPED");
  expect(status.stdout).toContain("to fix: raise max.message.bytes on the target topic");
  const json = await klink(["status", file, "--json"]);
  expect(json.code).toBe(2);
  expect(JSON.parse(json.stdout).partitions.find((p: any) => p.partition === 0).sourceEnd).toBe(181);
  // The other partition was copied whole (read on the target with another client).
  const marks = await withAdmin(target(), (a) => a.watermarks([0, 1].map((partition) => ({ topic, partition }))));
  expect(marks.map((m) => m.high)).toEqual([100, 100]);

  // Fixed on the target, `klink resume` starts the partition again in the running klink: it copies the rest.
  await withAdmin(target(), (a) => a.incrementalAlterTopicConfigs(topic, [{ name: "max.message.bytes", value: "200000" }]));
  const resumed = await klink(["resume", file, `${topic}:0`]);
  expect(resumed.stderr).toBe("");
  expect(resumed.code).toBe(0);
  expect(resumed.stdout).toBe(`${topic}[0]: resumed at source offset 100\n`);
  const targetEnds = async () => (await withAdmin(target(), (a) => a.watermarks([0, 1].map((partition) => ({ topic, partition }))))).map((m) => m.high);
  while ((await targetEnds())[0]! < 181) await Bun.sleep(200);
  expect(await targetEnds()).toEqual([181, 100]);
  expect((await get("/readyz"))!.code).toBe(200);
  expect((await klink(["status", file])).code).toBe(0);
  expect((await klink(["resume", file, topic])).stderr).toBe(`${topic}: no stopped partition\n`);
  await run.stop();
  expect(run.proc.exitCode).toBe(0);
}, 300_000);
