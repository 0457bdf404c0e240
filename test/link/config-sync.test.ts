/**
 * Live topic config sync (issue 18): while a topic is mirrored, a config changed on the source
 * reaches the target topic (set, changed, or removed), except those under link.configSync.exclude;
 * after `klink promote` the target is the authority and nothing is copied; `klink plan` shows the
 * drift. The oracle reads the target topic's configs with the test's own Admin.
 */
import { afterAll, expect, test } from "bun:test";
import { AlterConfigOp } from "../../src/rdkafka/index.ts";
import { Producer } from "../../src/rdkafka/index.ts";
import type { Plan } from "../../src/plan/types.ts";
import { source, target, plain, uniqueName, until, withAdmin } from "../helpers.ts";
import { KlinkRun, klink, stopAllKlinks, writeMigration } from "./klink-process.ts";

afterAll(stopAllKlinks);

/** The configs set on the topic itself (not inherited from its brokers or Kafka's defaults). */
async function topicLevel(cluster: "source" | "target", topic: string): Promise<Record<string, string>> {
  const entries = await withAdmin(cluster === "source" ? source() : target(), (a) => a.describeTopicConfigs(topic));
  return Object.fromEntries(entries.filter((e) => e.source === "DYNAMIC_TOPIC").map((e) => [e.name, e.value!]));
}

test("a config changed on the source reaches the target while mirrored; excluded ones do not; after promote nothing is copied; plan shows the drift", async () => {
  const topic = uniqueName("config-sync");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 2, configs: { "retention.ms": "86400000", "min.compaction.lag.ms": "60000" } }]));
  const producer = new Producer(plain(source()));
  for (let i = 0; i < 20; i++) producer.produce({ topic, partition: i % 2, key: `k${i}`, value: `v${i}` });
  await producer.flush();
  await producer.close();

  const linkName = uniqueName("config-sync");
  const file = writeMigration({ topics: [topic], linkName });
  await Bun.write(file, (await Bun.file(file).text()).replace("  offsets: auto\n", "  offsets: auto\n  configSync: { exclude: [segment.ms] }\n"));
  const run = new KlinkRun(file);
  await until("the target topic created with the source's configs", async () => (await topicLevel("target", topic).catch(() => ({})) as Record<string, string>)["retention.ms"] === "86400000", 90_000, run);

  await withAdmin(source(), (a) => a.incrementalAlterTopicConfigs(topic, [
    { name: "retention.ms", op: AlterConfigOp.SET, value: "3600000" },
    { name: "max.message.bytes", op: AlterConfigOp.SET, value: "2000000" },
    { name: "cleanup.policy", op: AlterConfigOp.SET, value: "compact,delete" },
    { name: "segment.ms", op: AlterConfigOp.SET, value: "7200000" },
    { name: "min.compaction.lag.ms", op: AlterConfigOp.DELETE },
  ]));
  const wanted = { "retention.ms": "3600000", "max.message.bytes": "2000000", "cleanup.policy": "compact,delete" };
  await until("the source's config changes on the target", async () => {
    const t = await topicLevel("target", topic);
    return Object.entries(wanted).every(([k, v]) => t[k] === v) && !("min.compaction.lag.ms" in t);
  }, 90_000, run);
  const synced = await topicLevel("target", topic);
  expect(synced).toMatchObject(wanted);
  expect(synced["segment.ms"]).toBeUndefined(); // excluded: the target keeps its own
  expect(synced["min.compaction.lag.ms"]).toBeUndefined(); // removed on the source: removed on the target
  expect(run.output).toContain(`${topic}: config retention.ms=3600000 copied from the source`);

  const promoted = await klink(["promote", file, topic, "--force"]);
  expect(promoted.stdout).toContain(`${topic}: promoted`);
  await withAdmin(source(), (a) => a.incrementalAlterTopicConfigs(topic, [{ name: "retention.ms", op: AlterConfigOp.SET, value: "7200000" }]));
  // Several sync periods (5 s each) pass: a change still copied would show in them.
  await Bun.sleep(20_000);
  expect((await topicLevel("target", topic))["retention.ms"]).toBe("3600000");
  expect(run.output).not.toContain(`${topic}: config retention.ms=7200000`);
  await run.stop();

  const planned = await klink(["plan", file, "--json"]);
  const plan = JSON.parse(planned.stdout) as Plan;
  const t = plan.topics.find((x) => x.topic === topic)!;
  expect(t.configDrift).toEqual({ synced: false, why: "promoted: the target is the authority", changes: [{ name: "retention.ms", source: "7200000", target: "3600000" }] });
  const text = await klink(["plan", file]);
  expect(text.stdout).toContain("config drift: retention.ms 7200000 on the source, 3600000 on the target (promoted: the target is the authority; not synced)");
}, 300_000);
