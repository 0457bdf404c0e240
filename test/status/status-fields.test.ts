/**
 * What `klink status` and GET /status say (issue 13, item 7): records/s and lag in seconds per
 * topic as the progress lines show them, wall-clock times, and while klink starts, what it waits for.
 */
import { test, expect, afterAll } from "bun:test";
import { readFileSync } from "node:fs";
import { source, uniqueName, withAdmin } from "../helpers.ts";
import { writeMigration, KlinkRun, klink, stopAllKlinks, statusWhenRunning, steadyProducer } from "../link/klink-process.ts";
import type { KafkaCluster } from "../harness/cluster.ts";

afterAll(stopAllKlinks);

const isoTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

test("status shows records/s and lag in seconds per topic, and wall-clock ISO times", async () => {
  const topic = uniqueName("rates");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 2 }]));
  const producer = steadyProducer(source(), topic, 2); // ~400 records/s while the test runs
  const file = writeMigration({ topics: [topic], linkName: uniqueName("rates") });
  const startedAt = Date.now();
  const run = new KlinkRun(file);
  try {
    let answer = await statusWhenRunning(file);
    // The rate needs two samples a few seconds apart.
    for (let i = 0; i < 100 && !(answer.topics?.[0]?.recordsPerSecond > 0); i++) {
      await Bun.sleep(500);
      answer = await statusWhenRunning(file);
    }
    const t = answer.topics?.[0];
    expect(t).toMatchObject({ topic, partitions: 2, state: "mirroring" });
    expect(t.recordsPerSecond).toBeGreaterThan(0);
    expect(typeof t.megabytesPerSecond).toBe("number");
    expect(t.lagRecords).toBeGreaterThanOrEqual(0);
    expect(t.lagSeconds === null || typeof t.lagSeconds === "number").toBe(true);
    // Times are the wall clock's, as ISO strings, within the test's own clock readings.
    expect(answer.at).toMatch(isoTime);
    expect(Date.parse(answer.at)).toBeGreaterThanOrEqual(startedAt);
    expect(Date.parse(answer.at)).toBeLessThanOrEqual(Date.now());
    for (const p of answer.partitions) {
      expect(p.lastCopiedAt).toMatch(isoTime); // when klink last copied a record a producer wrote
      expect(Date.parse(p.lastCopiedAt)).toBeGreaterThanOrEqual(startedAt - 1);
      expect(Date.parse(p.lastCopiedAt)).toBeLessThanOrEqual(Date.now());
      expect(p.copiedRecordTime).toMatch(isoTime); // CreateTime of a recently copied record
    }
    const text = await klink(["status", file]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`${topic} \\(mirroring\\): 2 partitions, \\d+ records \\([\\d.]+ MB\\) copied this run, \\d+ records/s, [\\d.]+ MB/s, lag \\d+`));
  } finally {
    await producer.stop();
    await run.stop();
  }
}, 180_000);

test("while klink starts, status says what it waits for", async () => {
  // A "broker" that accepts connections and never answers: klink waits for the source cluster.
  const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const file = writeMigration({ topics: ["whatever"], linkName: uniqueName("starting"), from: { bootstrap: `127.0.0.1:${silent.port}` } as KafkaCluster });
  const listen = /listen: (\S+)/.exec(readFileSync(file, "utf8"))![1]!;
  const run = new KlinkRun(file);
  try {
    let body: any = null;
    while (!body && !run.exited) {
      body = await fetch(`http://${listen}/status`).then((r) => r.json(), () => null);
    }
    expect(body).toMatchObject({ starting: true });
    expect(body.phase).toBe(`connecting to the source cluster (127.0.0.1:${silent.port})`);
    const text = await klink(["status", file]);
    expect(text.code).toBe(2);
    expect(text.stderr).toContain(`is still starting: connecting to the source cluster (127.0.0.1:${silent.port})`);
  } finally {
    await run.stop();
    silent.stop(true);
  }
}, 120_000);
