/**
 * link.fastLane (#16, docs/fast-lane.md "In klink run"): `klink run` copies plain mirroring
 * partitions as record batches and moves a partition to the exact lane where the lane cannot copy
 * it (transactions). The oracle reads both clusters with a test consumer and admin client.
 */
import { afterAll, expect, test } from "bun:test";
import { Producer } from "../../src/rdkafka/index.ts";
import { plain, source, target, uniqueName, until, withAdmin } from "../helpers.ts";
import { caughtUp, klink, runInBackground, spawnKlink, steadyProducer, writeMigration } from "./klink-process.ts";
import { exactDifferences } from "./exact-check.ts";
import { expectExactCopy } from "./exact-copy.ts";
import { TransactionalWriters } from "./transactional-writers.ts";

const running = new Set<ReturnType<typeof spawnKlink>>();
afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
});

const FAST_LANE = "  fastLane: true\n";
const lanePartitions = (log: string) => (log.match(/: copying from offset \d+ \(on the fast lane\)/g) ?? []).length;

/** Producers of one codec each writing keyed records with headers to all partitions of `topic`, until stopped. */
function codecProducers(topic: string, partitions: number, codecs: string[]) {
  let on = true;
  let sent = 0;
  const loops = codecs.map(async (codec) => {
    const producer = new Producer(plain(source(), { "linger.ms": 5, "compression.codec": codec }));
    while (on) {
      for (let i = 0; i < 40; i++, sent++) {
        producer.produce({ topic, partition: sent % partitions, key: `${codec}-${sent}`, value: Buffer.alloc(100 + (sent % 700), sent & 0xff), headers: [["codec", codec]] });
      }
      await Bun.sleep(20);
    }
    await producer.flush();
    await producer.close();
  });
  return { stop: async () => ((on = false), await Promise.all(loops), sent) };
}

test("link.fastLane: plain partitions of every codec copied as batches, a transactional topic moved to the exact lane; kill -9 of klink at random moments under load; every record at its source offset", async () => {
  const plainTopic = uniqueName("lane-plain");
  const txTopic = uniqueName("lane-tx");
  await withAdmin(source(), (a) => a.createTopics([{ name: plainTopic, partitions: 4 }, { name: txTopic, partitions: 2 }]));
  const file = writeMigration({ topics: [plainTopic, txTopic], linkName: uniqueName("lane"), linkExtra: FAST_LANE });
  const plainLoad = codecProducers(plainTopic, 4, ["none", "gzip", "snappy", "lz4", "zstd"]);
  const writers = new TransactionalWriters({ cluster: source(), topic: txTopic, partitions: 2, transactional: 2, plainWriter: true, seed: 23 });
  writers.start();
  let logs = "";
  try {
    // a first run long enough to see both lanes at work
    const first = runInBackground(file, running);
    await until("the fast lane copies the plain topic", () => lanePartitions(first.log()) >= 4, 90_000, first.status);
    const status = await klink(["status", file, "--json"]);
    const listed = JSON.parse(status.stdout) as { partitions: Array<{ topic: string; lane?: string }> };
    expect(listed.partitions.filter((p) => p.topic === plainTopic && p.lane === "fast").length).toBeGreaterThan(0);
    expect((await klink(["status", file])).stdout).toMatch(new RegExp(`${plainTopic} \\(mirroring\\).* on the fast lane`));
    await until("a transactional partition goes back to the exact lane", () => first.log().includes(`${txTopic}[0]: back to the exact lane`) || first.log().includes(`${txTopic}[1]: back to the exact lane`), 90_000, first.status);
    first.proc.kill("SIGKILL");
    await first.exited;
    logs += first.log();

    let seed = 11;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    for (let round = 0; round < 5; round++) {
      const run = runInBackground(file, running);
      await Bun.sleep(4_000 + Math.floor(random() * 6_000));
      run.proc.kill("SIGKILL");
      await run.exited;
      logs += run.log();
    }
  } finally {
    await writers.stop();
  }
  const produced = await plainLoad.stop();
  const last = await klink(["run", file, "--until-caught-up"]);
  logs += last.stderr;
  if (last.code !== 0) console.error(`the last run (exit ${last.code}) said:\n${last.stderr.slice(-6000)}`);
  expect(last.stderr).not.toContain("stopped:");
  expect(last.code).toBe(0);
  expect(lanePartitions(logs)).toBeGreaterThan(4); // the lane took partitions on again after the kills
  expect(await exactDifferences(source(), target(), plainTopic, 4)).toEqual([]);
  expect(await exactDifferences(source(), target(), txTopic, 2)).toEqual([]);
  const highs = await withAdmin(target(), (a) => a.watermarks([0, 1, 2, 3].map((partition) => ({ topic: plainTopic, partition }))));
  expect(highs.reduce((n, m) => n + m.high, 0)).toBe(produced);
}, 600_000);

test("link.fastLane: a promote of a topic on the fast lane waits for its quiet (the lane's copies count as source writes), then brings it back to the exact lane and promotes; nothing written after the promote is copied", async () => {
  const topic = uniqueName("lane-promote");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 2 }]));
  const file = writeMigration({ topics: [topic], linkName: uniqueName("lane-promote"), linkExtra: FAST_LANE });
  const load = steadyProducer(source(), topic, 2, 5);
  const run = runInBackground(file, running);
  await until("the fast lane copies both partitions", () => lanePartitions(run.log()) >= 2, 90_000, run.status);
  await Bun.sleep(12_000); // longer than promote's 10 s of quiet: only the lane copies the topic's writes now

  const refused = await klink(["promote", file, topic]);
  expect(refused.stderr).toContain("a producer may still write");
  expect(refused.code).toBe(2);

  const produced = await load.stop();
  await caughtUp(topic, 2);
  await Bun.sleep(11_000);
  const promoted = await klink(["promote", file, topic]);
  expect(promoted.stdout).toContain(`${topic}: promoted`);
  expect(promoted.code).toBe(0);
  expect(run.log()).toMatch(/taken back from the fast lane/);
  await expectExactCopy(topic, produced);

  // the source is no longer copied: a record written there now stays there
  const late = new Producer(plain(source()));
  await late.send({ topic, partition: 0, key: "late", value: "after the promote" });
  await late.close();
  await Bun.sleep(3_000);
  const [s, t] = await Promise.all([
    withAdmin(source(), (a) => a.watermarks([{ topic, partition: 0 }])),
    withAdmin(target(), (a) => a.watermarks([{ topic, partition: 0 }])),
  ]);
  expect(t[0]!.high).toBe(s[0]!.high - 1);
  run.proc.kill("SIGTERM");
  expect(await run.exited).toBe(0);
}, 300_000);

test("link.fastLane: a source topic stamped with LogAppendTime stays on the exact lane, its append times the target records' CreateTime (the target refuses such batches from a producer); identical, timestamps too", async () => {
  const topic = uniqueName("lane-append");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 2, configs: { "message.timestamp.type": "LogAppendTime" } }]));
  const file = writeMigration({ topics: [topic], linkName: uniqueName("lane-append"), linkExtra: FAST_LANE });
  const load = steadyProducer(source(), topic, 2, 10);
  const run = runInBackground(file, running);
  await until("the topic goes back to the exact lane", () => new RegExp(`${topic}\\[\\d\\]: back to the exact lane: .*append time`).test(run.log()), 90_000, run.status);
  await Bun.sleep(5_000);
  const produced = await load.stop();
  await caughtUp(topic, 2);
  run.proc.kill("SIGTERM");
  expect(await run.exited).toBe(0);
  expect(run.log()).not.toContain("INVALID_TIMESTAMP");
  await expectExactCopy(topic, produced);
  expect(await exactDifferences(source(), target(), topic, 2)).toEqual([]); // timestamps too
}, 300_000);
