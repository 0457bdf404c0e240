import { test, expect, afterAll } from "bun:test";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import { writeMigration, spawnKlink, klink, statusWhenRunning } from "./klink-process.ts";

const running = new Set<ReturnType<typeof spawnKlink>>();
afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
});

test("a record larger than the target's max.message.bytes stops its partition with the reason; others keep flowing", async () => {
  const topic = uniqueName("too-large");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 2, configs: { "max.message.bytes": "200000" } }]));
  // The target topic exists (empty) with a smaller limit.
  await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 2, configs: { "max.message.bytes": "20000" } }]));
  const p = new Producer(plain(source(), { "linger.ms": 5 }));
  for (let i = 0; i < 1000; i++) {
    p.produce({ topic, partition: 0, value: i === 600 ? Buffer.alloc(100_000, 1) : Buffer.from(`a${i}`) });
    p.produce({ topic, partition: 1, value: `b${i}` });
  }
  await p.flush();
  await p.close();

  const file = writeMigration({ topics: [topic], linkName: uniqueName("too-large") });
  const run = await klink(["run", file, "--until-caught-up"]);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain(`${topic}[0] stopped: record at offset 600 is 100000 bytes, more than the target topic's max.message.bytes (20000); raise it on the target topic and restart`);
  const marks = await withAdmin(target(), (a) => a.watermarks([0, 1].map((partition) => ({ topic, partition }))));
  expect(marks.map((m) => m.high)).toEqual([600, 1000]); // partition 0 up to the big record, partition 1 whole

  // Raising the limit and restarting continues partition 0 from where it stopped.
  await withAdmin(target(), (a) => a.incrementalAlterTopicConfigs(topic, [{ name: "max.message.bytes", value: "200000" }]));
  const again = await klink(["run", file, "--until-caught-up"]);
  expect(again.code).toBe(0);
  expect((await klink(["verify", file])).code).toBe(0);
}, 180_000);

test("a source topic deleted mid-run stops its partitions; other topics keep flowing", async () => {
  const doomed = uniqueName("doomed");
  const kept = uniqueName("kept");
  await withAdmin(source(), (a) => a.createTopics([{ name: doomed, partitions: 2 }, { name: kept, partitions: 2 }]));
  const p = new Producer(plain(source(), { "linger.ms": 5 }));
  for (let i = 0; i < 500; i++) {
    p.produce({ topic: doomed, value: `d${i}` });
    p.produce({ topic: kept, value: `k${i}` });
  }
  await p.flush();

  const file = writeMigration({ topics: [doomed, kept], linkName: uniqueName("deleted") });
  const proc = spawnKlink(["run", file]);
  running.add(proc);
  await statusWhenRunning(file); // copying before the fault, also on a loaded machine
  await Bun.sleep(1_000);
  await withAdmin(source(), (a) => a.deleteTopics([doomed]));
  await Bun.sleep(4_000);
  for (let i = 0; i < 500; i++) p.produce({ topic: kept, value: `late${i}` });
  await p.flush();
  await p.close();
  await Bun.sleep(4_000);
  proc.kill("SIGTERM");
  const [stderr] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  running.delete(proc);
  expect(stderr).toMatch(new RegExp(`${doomed}\\[\\d\\]: stopped: .*(no longer exists|nknown topic|UNKNOWN_TOPIC)`));
  expect(stderr).not.toContain(`${kept}[0]: stopped`);
  const verify = await klink(["verify", file, "--topics", kept]);
  expect(verify.stdout).toContain("identical: 1000 records in 2 partitions");
}, 180_000);

test("partitions added to a source topic while klink runs are created on the target and copied", async () => {
  const topic = uniqueName("growing");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 2 }]));
  const p = new Producer(plain(source(), { "linger.ms": 5, "topic.metadata.refresh.interval.ms": 1000 }));
  for (let i = 0; i < 400; i++) p.produce({ topic, partition: i % 2, value: `before${i}` });
  await p.flush();
  const file = writeMigration({ topics: [topic], linkName: uniqueName("growing"), start: "latest" });
  const proc = spawnKlink(["run", file]);
  running.add(proc);
  await statusWhenRunning(file); // copying (a fixed 3 s was not enough on a loaded machine: klink started after the growth)
  await withAdmin(source(), (a) => a.createPartitions([{ topic, totalCount: 4 }]));
  await Bun.sleep(2_000);
  for (let i = 0; i < 800; i++) {
    for (;;) {
      try {
        p.produce({ topic, partition: i % 4, value: `after${i}` });
        break;
      } catch (e: any) {
        if (e.codeName !== "_UNKNOWN_PARTITION") throw e;
        await Bun.sleep(500); // the producer has not seen the new partitions yet
      }
    }
  }
  await p.flush();
  await p.close();
  await Bun.sleep(15_000);
  proc.kill("SIGTERM");
  const [stderr] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  running.delete(proc);
  expect(stderr).toContain(`${topic}: the source grew to 4 partitions; copying 2, 3 too`);
  const [desc] = await withAdmin(target(), (a) => a.describeTopics([topic]));
  expect(desc!.partitions).toHaveLength(4);
  const verify = await klink(["verify", file, "--json"]);
  const result = JSON.parse(verify.stdout);
  if (!result.identical) console.error(stderr, JSON.stringify(result.partitions, null, 1));
  expect(result.identical).toBe(true);
  expect(result.partitions.map((v: any) => v.compared)).toEqual([200, 200, 200, 200]);
}, 120_000);

test("permissions revoked on one source topic stop its partitions with the reason; other topics keep flowing", async () => {
  const { aclTool } = await import("../harness/tools.ts");
  const s = source().security!;
  const denied = uniqueName("revoked");
  const kept = uniqueName("allowed");
  await withAdmin(source(), (a) => a.createTopics([{ name: denied, partitions: 2 }, { name: kept, partitions: 2 }]));
  const p = new Producer(plain(source(), { "linger.ms": 5 }));
  for (let i = 0; i < 400; i++) {
    p.produce({ topic: denied, value: `d${i}` });
    p.produce({ topic: kept, value: `k${i}` });
  }
  await p.flush();
  // klink reads the source as alice over SASL_SSL (SCRAM); the plaintext listener is not authorized.
  const file = writeMigration({ topics: [denied, kept], linkName: uniqueName("revoked") });
  const { readFileSync, writeFileSync } = await import("node:fs");
  writeFileSync(
    file,
    readFileSync(file, "utf8").replace(
      `source: { bootstrap: "${source().bootstrap}" }`,
      `source:\n    bootstrap: "${s.saslSslBootstrap}"\n    auth: { plugin: sasl, options: { mechanism: SCRAM-SHA-512, username: alice, password: "${s.users.alice}", tls: { ca: "${s.caPem}" } } }`,
    ),
  );
  const proc = spawnKlink(["run", file]);
  running.add(proc);
  await statusWhenRunning(file); // copying before the fault, also on a loaded machine
  await Bun.sleep(1_000);
  await aclTool(source(), ["--add", "--deny-principal", "User:alice", "--operation", "Read", "--topic", denied], { listener: "sasl_ssl" });
  await Bun.sleep(3_000);
  for (let i = 0; i < 400; i++) {
    p.produce({ topic: denied, value: `late-d${i}` });
    p.produce({ topic: kept, value: `late-k${i}` });
  }
  await p.flush();
  await p.close();
  await Bun.sleep(6_000);
  proc.kill("SIGTERM");
  const [stderr] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  running.delete(proc);
  expect(stderr).toMatch(new RegExp(`${denied}\\[\\d\\]: stopped: .*(TOPIC_AUTHORIZATION_FAILED|not authorized|Authorization)`, "i"));
  expect(stderr).not.toContain(`${kept}[0]: stopped`);
  expect(stderr).not.toContain(`${kept}[1]: stopped`);
  const verify = await klink(["verify", file, "--topics", kept]);
  expect(verify.stdout).toContain("identical: 800 records in 2 partitions");
}, 180_000);

test("a partition that stops while records are held frees them: klink closes at once, and the message census finds none left (KLINK_DEBUG_MESSAGES=1)", async () => {
  const topic = uniqueName("held-stop");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 1, configs: { "max.message.bytes": "20000" } }]));
  const t = new Producer(plain(source(), { "transactional.id": uniqueName("held-stop"), "linger.ms": 0 }));
  t.initTransactions();
  const txn = async (from: number, count: number) => {
    t.beginTransaction();
    for (let i = from; i < from + count; i++) t.produce({ topic, partition: 0, key: `k${i}`, value: `v${i}` });
    await t.commitTransaction();
  };
  await txn(0, 50);
  const plainProducer = new Producer(plain(source()));
  await plainProducer.send({ topic, partition: 0, key: "big", value: Buffer.alloc(100_000, 1) }); // outside the transactions, too large for the target
  await plainProducer.close();
  for (let i = 0; i < 5; i++) await txn(1000 + i * 20, 20); // held behind the big one, holes (markers) between
  await t.close();
  const file = writeMigration({ topics: [topic], linkName: uniqueName("held-stop"), offsets: "exact" });
  process.env.KLINK_DEBUG_MESSAGES = "1";
  let run;
  try {
    run = await klink(["run", file, "--until-caught-up"], 120_000);
  } finally {
    delete process.env.KLINK_DEBUG_MESSAGES;
  }
  expect(run.stderr).toContain(`${topic}[0] stopped: record at offset 51 is 100003 bytes`);
  expect(run.stderr).not.toContain("KLINK_DEBUG_MESSAGES");
  expect(run.code).toBe(2);
}, 180_000);

test("a delivery error while a record waits before a one-slot hole: the partition stops, nothing stays held, klink closes at once", async () => {
  // The target refuses records older than an hour: the first copied record fails at delivery,
  // while the next one is held before the commit marker that follows it.
  const topic = uniqueName("held-delivery-error");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1, configs: { "retention.ms": "-1" } }]));
  await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 1, configs: { "message.timestamp.before.max.ms": "3600000" } }]));
  const t = new Producer(plain(source(), { "transactional.id": uniqueName("held-error"), "linger.ms": 0 }));
  t.initTransactions();
  t.beginTransaction();
  t.produce({ topic, partition: 0, key: "old", value: "a", timestamp: Date.now() - 86_400_000 });
  t.produce({ topic, partition: 0, key: "new", value: "b" });
  await t.commitTransaction(); // marker at 2: a one-slot hole after "new"
  t.beginTransaction();
  t.produce({ topic, partition: 0, key: "later", value: "c" });
  await t.commitTransaction();
  await t.close();
  const file = writeMigration({ topics: [topic], linkName: uniqueName("held-error"), offsets: "exact" });
  process.env.KLINK_DEBUG_MESSAGES = "1";
  let run;
  try {
    run = await klink(["run", file, "--until-caught-up"], 60_000);
  } finally {
    delete process.env.KLINK_DEBUG_MESSAGES;
  }
  expect(run.stderr).toContain(`${topic}[0] stopped:`);
  expect(run.stderr).not.toContain("KLINK_DEBUG_MESSAGES");
  expect(run.code).toBe(2);
}, 180_000);
