/**
 * Topics created on the source while klink runs (issue 15): one that link.topics selects (by its
 * regex, or listed by name and missing at start) is linked at the next check of the source's
 * topics (link.topics.refreshSeconds) and copied at identical offsets, the records written before
 * klink saw it included; one that link.topics does not select is not created on the target. The
 * oracle reads both clusters with the test's own consumer (exact-check.ts), not klink's state.
 */
import { afterAll, expect, test } from "bun:test";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, until, withAdmin } from "../helpers.ts";
import { KlinkRun, klink, statusWhenRunning, stopAllKlinks, writeMigration } from "./klink-process.ts";
import { exactDifferences } from "./exact-check.ts";

afterAll(stopAllKlinks);

async function produce(topic: string, partitions: number, count: number, tag: string): Promise<void> {
  const producer = new Producer(plain(source(), { "linger.ms": 5 }));
  for (let i = 0; i < count; i++) producer.produce({ topic, partition: i % partitions, key: `${tag}${i}`, value: `${tag}-value-${i}` });
  await producer.flush();
  await producer.close();
}

test("a topic created on the source while klink runs is linked and copied at identical offsets; one link.topics does not select is not", async () => {
  const prefix = uniqueName("newtopics");
  const first = `${prefix}.first`;
  const later = `${prefix}.later`;
  const listed = `${prefix}-listed`; // listed by name, created after start
  const other = `${prefix}-other`; // neither listed nor matching ${prefix}\..*
  await withAdmin(source(), (a) => a.createTopics([{ name: first, partitions: 2 }]));
  await produce(first, 2, 40, "first");
  const file = writeMigration({ topics: [first], linkName: prefix });
  await Bun.write(file, (await Bun.file(file).text()).replace(`  topics: { names: [${first}] }`, `  topics: { names: [${listed}], regex: ['${prefix}\\..*'], refreshSeconds: 2 }`));
  const run = new KlinkRun(file);
  await until("klink mirroring", () => run.output.includes("mirroring 1 topic(s)"), 120_000, run);
  expect(run.output).toContain(`link.topics names topics the source does not have (yet): ${listed}; each is linked once created there`);

  await withAdmin(source(), (a) => a.createTopics([{ name: later, partitions: 3 }, { name: listed, partitions: 1 }, { name: other, partitions: 1 }]));
  await produce(later, 3, 300, "before");
  await produce(listed, 1, 30, "listed");
  await produce(other, 1, 50, "other");
  await until("the new topic created on the target", async () => (await withAdmin(target(), async (a) => a.listTopics())).some((t) => t.name === later), 120_000, run);
  await produce(later, 3, 300, "after");
  await produce(first, 2, 40, "first-again");

  await until("the new topic copied exactly", async () => (await exactDifferences(source(), target(), later, 3).catch((e) => [String(e)])).length === 0, 120_000, run);
  await until("the listed topic copied exactly", async () => (await exactDifferences(source(), target(), listed, 1).catch((e) => [String(e)])).length === 0, 60_000, run);
  await until("the first topic copied exactly", async () => (await exactDifferences(source(), target(), first, 2).catch((e) => [String(e)])).length === 0, 60_000, run);
  // Several checks (2 s each) passed since the unselected topic was created.
  const targetTopics = await withAdmin(target(), async (a) => a.listTopics().map((t) => t.name));
  expect(targetTopics).toContain(later);
  expect(targetTopics).not.toContain(other);
  expect(run.output).toContain(`${later}: created on the source after start; linked`);
  expect(run.output).not.toContain(other);
  const status = await statusWhenRunning(file);
  expect(status.topics.map((t: { topic: string }) => t.topic).sort()).toEqual([listed, first, later].sort());
  const promote = await klink(["promote", file, later, "--dry-run"]);
  expect(promote.stdout + promote.stderr).toContain(`${later}: would`); // the lifecycle knows it (not "no linked topic matches")

  // Deleted on the source, as before: its partitions stop (within a minute when the deletion races
  // a round of end offsets: watchers.ts), and created again under its name it is not linked again
  // by the check (klink resume or a restart does that).
  await withAdmin(source(), (a) => a.deleteTopics([later]));
  await until("the deleted topic's partitions stopped", () => new RegExp(`${later.replace(".", "\\.")}\\[\\d\\]: stopped: .*(no longer exists|nknown topic|UNKNOWN_TOPIC)`).test(run.output), 180_000, run);
  await withAdmin(source(), (a) => a.createTopics([{ name: later, partitions: 3 }]));
  await Bun.sleep(8_000); // four checks
  expect(run.output.split(`${later}: created on the source after start`).length).toBe(2);
  await run.stop();
}, 400_000);

test("a new topic the target refuses to create is reported and tried again at each check while the others copy; once the cause is gone it is linked", async () => {
  const prefix = uniqueName("newtopics");
  const first = `${prefix}.first`;
  const refused = `${prefix}.refused`;
  await withAdmin(source(), (a) => a.createTopics([{ name: first, partitions: 1 }]));
  await produce(first, 1, 20, "first");
  const file = writeMigration({ topics: [first], linkName: prefix });
  // The target has one broker: a replication factor of 3 is refused.
  await Bun.write(file, (await Bun.file(file).text()).replace(`  topics: { names: [${first}] }`,
    `  topics: { regex: ['${prefix}\\..*'], refreshSeconds: 2 }\n  overrides: { "${refused}": { create: { replicationFactor: 3 } } }`));
  const run = new KlinkRun(file);
  await until("klink mirroring", () => run.output.includes("mirroring 1 topic(s)"), 120_000, run);

  await withAdmin(source(), (a) => a.createTopics([{ name: refused, partitions: 2 }]));
  await produce(refused, 2, 100, "refused");
  await until("the refusal reported", () => run.output.includes(`${refused}: created on the source after start; not linked: `), 120_000, run);
  await produce(first, 1, 20, "first-again");
  await until("the other topic still copied", async () => (await exactDifferences(source(), target(), first, 1).catch((e) => [String(e)])).length === 0, 60_000, run);
  await Bun.sleep(6_000); // three more checks: tried again, said once
  expect(run.output.split(`${refused}: created on the source after start; not linked: `).length).toBe(2);
  expect(run.output).toMatch(/not linked: .*replication factor.*; trying again in 2 s/i);

  // The operator creates the topic on the target: the next check links it.
  await withAdmin(target(), (a) => a.createTopics([{ name: refused, partitions: 2 }]));
  await until("the refused topic copied exactly", async () => (await exactDifferences(source(), target(), refused, 2).catch((e) => [String(e)])).length === 0, 120_000, run);
  expect(run.output).toContain(`${refused}: created on the source after start; linked`);
  await run.stop();
}, 400_000);
