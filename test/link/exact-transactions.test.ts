/**
 * Exact offsets on transactional topics while transactional producers write (issue 11, items 2
 * and 7): several transactional producers and a plain one write to the same partitions, a third
 * of the transactions abort, while klink copies with `offsets: exact`, also across kill -9.
 * The oracle reads both clusters with a plain consumer: same records at the same offsets, same
 * log start and end offsets, and no partition stopped.
 */
import { test, expect, afterAll } from "bun:test";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import { writeMigration, KlinkRun, stopAllKlinks, klink } from "./klink-process.ts";
import { TransactionalWriters } from "./transactional-writers.ts";
import { exactDifferences } from "./exact-check.ts";

const PARTITIONS = 2;
afterAll(stopAllKlinks);

/** Waits until the target's end offsets equal the source's (klink caught up), or the deadline. */
async function caughtUp(topic: string, timeoutMs: number): Promise<boolean> {
  const tps = Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition }));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [s, t] = await Promise.all([withAdmin(source(), (a) => a.watermarks(tps)), withAdmin(target(), (a) => a.watermarks(tps)).catch(() => [])]);
    if (t.length === PARTITIONS && s.every((m, i) => m.high === t[i]!.high)) return true;
    await Bun.sleep(1_000);
  }
  return false;
}

async function transactionalTopic(name: string): Promise<{ topic: string; file: string; writers: TransactionalWriters }> {
  const topic = uniqueName(name);
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: PARTITIONS }]));
  const file = writeMigration({ topics: [topic], linkName: uniqueName(name), offsets: "exact" });
  const writers = new TransactionalWriters({ cluster: source(), topic, partitions: PARTITIONS, transactional: 3, plainWriter: true, seed: 17 });
  return { topic, file, writers };
}

test("transactional producers write while klink copies (offsets: exact): identical records at identical offsets, no partition stopped", async () => {
  const { topic, file, writers } = await transactionalTopic("live-txn");
  writers.start();
  await Bun.sleep(5_000); // some history first, then klink follows the live tail
  const klink = new KlinkRun(file);
  await Bun.sleep(60_000);
  await writers.stop();
  const done = await caughtUp(topic, 120_000);
  await klink.stop();
  const stopped = klink.output.split("\n").filter((l) => l.includes("stopped:"));
  expect(stopped).toEqual([]);
  expect(done).toBe(true);
  expect(writers.committed).toBeGreaterThan(50);
  expect(writers.aborted).toBeGreaterThan(10);
  expect(await exactDifferences(source(), target(), topic, PARTITIONS)).toEqual([]);
}, 400_000);

test("kill -9 of klink at random moments while it copies a transactional topic (offsets: exact): resumes at identical offsets", async () => {
  const { topic, file, writers } = await transactionalTopic("kill-txn");
  writers.start();
  await Bun.sleep(3_000);
  let seed = 11;
  const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  const outputs: string[] = [];
  for (let round = 0; round < 12; round++) {
    const klink = new KlinkRun(file);
    await Bun.sleep(1_000 + Math.floor(random() * 4_000));
    await klink.stop("SIGKILL");
    outputs.push(klink.output);
  }
  await writers.stop();
  const last = new KlinkRun(file);
  const done = await caughtUp(topic, 180_000);
  await last.stop();
  outputs.push(last.output);
  const stopped = outputs.join("\n").split("\n").filter((l) => /stopped:|translate mode|dual write/.test(l));
  expect(stopped).toEqual([]);
  expect(done).toBe(true);
  expect(await exactDifferences(source(), target(), topic, PARTITIONS)).toEqual([]);
}, 600_000);

test("--until-caught-up ends when a partition's last offsets are transaction markers (exact and translate modes)", async () => {
  for (const offsets of ["exact", "translate"] as const) {
    const topic = uniqueName(`marker-end-${offsets}`);
    await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
    const t = new Producer(plain(source(), { "transactional.id": uniqueName("marker-end"), "linger.ms": 0 }));
    t.initTransactions();
    for (let i = 0; i < 3; i++) {
      t.beginTransaction();
      for (let j = 0; j < 5; j++) t.produce({ topic, partition: 0, value: `v${i}-${j}` });
      await t.commitTransaction(); // the log ends with this commit marker
    }
    await t.close();
    const file = writeMigration({ topics: [topic], linkName: uniqueName("marker-end"), offsets });
    const run = await klink(["run", file, "--until-caught-up"], 120_000);
    expect(`${offsets}: exit ${run.code}`).toBe(`${offsets}: exit 0`);
    expect(run.stderr).not.toContain("stopped");
  }
}, 300_000);
