/**
 * `klink plan` predicts the target topics `klink run` creates (issue 12): the configs plan lists
 * are exactly the ones the new target topic has (read with the test's own Admin), for a source
 * topic with LogAppendTime (the target gets CreateTime, so copied records keep the source's
 * timestamps), a compacted topic with a custom min.compaction.lag.ms, and one with a non-default
 * retention.ms and a min.insync.replicas that is not copied.
 */
import { expect, test } from "bun:test";
import { Producer, AlterConfigOp } from "../../src/rdkafka/index.ts";
import type { Plan } from "../../src/plan/types.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import { klink, writeMigration } from "./klink-process.ts";
import { exactDifferences } from "./exact-check.ts";

const topics = {
  appendTime: { name: uniqueName("create-logappendtime"), configs: { "message.timestamp.type": "LogAppendTime" } },
  compacted: { name: uniqueName("create-compacted"), configs: { "cleanup.policy": "compact", "min.compaction.lag.ms": "3600000" } },
  retained: { name: uniqueName("create-retained"), configs: { "retention.ms": "172800000", "min.insync.replicas": "1" } },
};
const names = Object.values(topics).map((t) => t.name);

/** The configs set on the target topic itself (not inherited from its brokers or Kafka's defaults). */
async function topicLevelConfigs(topic: string): Promise<Record<string, string>> {
  const entries = await withAdmin(target(), (a) => a.describeTopicConfigs(topic));
  return Object.fromEntries(entries.filter((e) => e.source === "DYNAMIC_TOPIC").map((e) => [e.name, e.value!]));
}

test("plan --json lists exactly the configs run creates the target topics with", async () => {
  await withAdmin(source(), (a) => a.createTopics(Object.values(topics).map((t) => ({ name: t.name, partitions: 2, configs: t.configs }))));
  const producer = new Producer(plain(source()));
  for (const topic of names) for (let i = 0; i < 20; i++) producer.produce({ topic, partition: i % 2, key: `k${i}`, value: `v${i}` });
  await producer.flush();
  await producer.close();

  const file = writeMigration({ topics: names, linkName: uniqueName("create-plan-run") });
  const planned = await klink(["plan", file, "--json"]);
  expect(planned.stderr).toBe("");
  const plan = JSON.parse(planned.stdout) as Plan;
  const create = (topic: string) => plan.topics.find((t) => t.topic === topic)!.create!;

  const run = await klink(["run", file, "--until-caught-up"]);
  expect(run.stderr).not.toContain("stopped");
  expect(run.code).toBe(0);

  const created = [];
  for (const topic of names) {
    const [desc] = await withAdmin(target(), (a) => a.describeTopics([topic]));
    created.push({ topic, partitions: desc!.partitions.length, configs: await topicLevelConfigs(topic) });
  }
  expect(created).toEqual(names.map((topic) => ({ topic, partitions: create(topic).partitions, configs: create(topic).configs })));

  // what both decided (the rule itself is test/link/topic-create.test.ts's)
  expect(create(topics.appendTime.name).configs).toEqual({ "message.timestamp.type": "CreateTime" });
  expect(Object.keys(create(topics.appendTime.name).skipped)).toEqual(["message.timestamp.type"]);
  expect(create(topics.compacted.name).configs).toEqual(topics.compacted.configs);
  expect(create(topics.retained.name)).toMatchObject({
    configs: { "retention.ms": "172800000" },
    skipped: { "min.insync.replicas": "depends on the target's replication factor: set it under link.create.configs" },
  });
  // records on the LogAppendTime topic kept the source's timestamps (the source broker's append times)
  expect(await exactDifferences(source(), target(), topics.appendTime.name, 2)).toEqual([]);
}, 300_000);

test("a LogAppendTime source topic: a restart resumes in exact mode (no false dual write), verify says identical", async () => {
  const topic = uniqueName("appendtime-restart");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1, configs: { "message.timestamp.type": "LogAppendTime" } }]));
  const producer = new Producer(plain(source()));
  for (let i = 0; i < 50; i++) producer.produce({ topic, partition: 0, key: `k${i}`, value: `v${i}` });
  await producer.flush();
  const file = writeMigration({ topics: [topic], linkName: uniqueName("appendtime-restart") });
  expect((await klink(["run", file, "--until-caught-up"])).code).toBe(0);
  for (let i = 50; i < 80; i++) producer.produce({ topic, partition: 0, key: `k${i}`, value: `v${i}` });
  await producer.flush();
  await producer.close();
  const again = await klink(["run", file, "--until-caught-up"]);
  expect(again.stderr).not.toContain("dual write");
  expect(again.code).toBe(0);
  expect(await exactDifferences(source(), target(), topic, 1)).toEqual([]);
  const verify = await klink(["verify", file]);
  expect(verify.code).toBe(0);
}, 180_000);

test("plan --json predicts each partition's start and offset mode as run then does: a trimmed compact-only topic, a prefix over the limit", async () => {
  const trimmed = uniqueName("plan-run-trimmed");
  const overLimit = uniqueName("plan-run-over-limit");
  await withAdmin(source(), (a) => a.createTopics([
    { name: trimmed, partitions: 2, configs: { "segment.bytes": "4096", "retention.ms": "-1", "cleanup.policy": "compact,delete" } },
    { name: overLimit, partitions: 1, configs: { "segment.bytes": "4096", "retention.ms": "-1" } },
  ]));
  const producer = new Producer(plain(source(), { "batch.num.messages": 10 }));
  for (const topic of [trimmed, overLimit]) for (let i = 0; i < 400; i++) producer.produce({ topic, partition: i % (topic === trimmed ? 2 : 1), key: `k${i}`, value: `v${i}`.padEnd(100, "x") });
  await producer.flush();
  await producer.close();
  await withAdmin(source(), (a) => a.deleteRecords([{ topic: trimmed, partition: 0, offset: 120 }, { topic: overLimit, partition: 0, offset: 300 }]));
  // compact-only from now on: the target topic is created compact-only, and its start needs DeleteRecords
  await withAdmin(source(), (a) => a.incrementalAlterTopicConfigs(trimmed, [{ name: "cleanup.policy", op: AlterConfigOp.SET, value: "compact" }]));
  const file = writeMigration({ topics: [trimmed, overLimit], linkName: uniqueName("plan-run") });
  // prefixFillLimit 200 (per topic override): the 300-offset prefix of overLimit goes to translate mode
  // (segment.bytes 4096 keeps the source's segments small for DeleteRecords; Kafka 4 refuses it on the target)
  const yaml = (await Bun.file(file).text()).replace("  offsets: auto\n", "  offsets: auto\n  prefixFillLimit: 200\n  create: { configs: { segment.bytes: null } }\n");
  await Bun.write(file, yaml);
  const plan = JSON.parse((await klink(["plan", file, "--json"])).stdout) as Plan;
  const planned = (topic: string) => plan.topics.find((t) => t.topic === topic)!.partitionPlans.map((p) => ({ partition: p.partition, start: p.startOffset, mode: p.mode }));
  const run = await klink(["run", file, "--until-caught-up"]);
  if (run.code !== 0) console.error(run.stderr);
  expect(run.code).toBe(0);
  for (const topic of [trimmed, overLimit]) {
    const marks = await withAdmin(target(), (a) => a.watermarks(planned(topic).map((p) => ({ topic, partition: p.partition }))));
    const ran = planned(topic).map((p) => {
      const m = marks.find((x) => x.partition === p.partition)!;
      // exact: the target's log starts at the planned start; translate: the target starts at 0 and holds only copies
      return { partition: p.partition, start: p.mode === "exact" ? m.low : p.start, mode: p.mode };
    });
    expect(ran).toEqual(planned(topic));
  }
  expect(planned(trimmed)).toEqual([{ partition: 0, start: 120, mode: "exact" }, { partition: 1, start: 0, mode: "exact" }]);
  expect(planned(overLimit)).toEqual([{ partition: 0, start: 300, mode: "translate" }]);
  // and run stored the mode plan predicted
  const verify = JSON.parse((await klink(["verify", file, "--json"])).stdout);
  expect(verify.partitions.filter((p: { topic: string }) => p.topic === overLimit).map((p: { mode: string }) => p.mode)).toEqual(["translate"]);
  expect(verify.partitions.filter((p: { topic: string }) => p.topic === trimmed).map((p: { mode: string }) => p.mode)).toEqual(["exact", "exact"]);
}, 300_000);

test("plan asks the target whether it accepts the topic run would create (a 3.9 segment.bytes below Kafka 4's minimum)", async () => {
  const topic = uniqueName("create-refused");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1, configs: { "segment.bytes": "65536" } }]));
  const file = writeMigration({ topics: [topic], linkName: uniqueName("create-refused") });
  const planned = await klink(["plan", file, "--json"]);
  const plan = JSON.parse(planned.stdout) as Plan;
  const problems = plan.problems.filter((p) => p.subject === `topic ${topic}`).map((p) => `${p.severity}: ${p.message}`);
  expect(problems.some((p) => p.startsWith("error: the target refuses to create it as planned") && p.includes("segment.bytes"))).toBe(true);
  expect(planned.code).toBe(1);
  // nothing was created
  expect(await withAdmin(target(), (a) => a.describeTopics([topic]).then(() => "exists", () => "missing"))).toBe("missing");
}, 120_000);
