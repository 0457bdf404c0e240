import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Producer } from "../../src/rdkafka/index.ts";
import { SqliteStore } from "../../plugins/storage/sqlite.ts";
import type { Plan } from "../../src/plan/types.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import { klink, tempDir } from "./cli.ts";

const topics = {
  trimmed: uniqueName("plan-trimmed"),
  trimmedOverLimit: uniqueName("plan-trimmed-big"),
  compacted: uniqueName("plan-compacted"),
  foreign: uniqueName("plan-foreign"),
  mismatch: uniqueName("plan-mismatch"),
  fresh: uniqueName("plan-fresh"),
};
const group = uniqueName("plan-group");
const otherGroup = uniqueName("plan-other-group");

async function produce(bootstrap: ReturnType<typeof source>, topic: string, count: number, partitions = 1, keyed = false) {
  // small batches: the trimmed topics have 4 KiB segments, so DeleteRecords has segments to drop
  const failures: Error[] = [];
  const producer = new Producer(plain(bootstrap, { "batch.num.messages": 10 }), { onDelivery: (r) => void (r.error && failures.push(r.error)) });
  try {
    for (let i = 0; i < count; i++) producer.produce({ topic, partition: i % partitions, key: keyed ? `k${i % 5}` : null, value: `v${i}` });
    await producer.flush();
  } finally {
    await producer.close();
  }
  expect(failures).toEqual([]);
}

let dir: string;
let file: string;

beforeAll(async () => {
  await withAdmin(source(), (a) =>
    a.createTopics([
      { name: topics.trimmed, partitions: 1, configs: { "segment.bytes": "4096", "retention.ms": "86400000" } },
      { name: topics.trimmedOverLimit, partitions: 1, configs: { "segment.bytes": "4096" } },
      { name: topics.compacted, partitions: 1, configs: { "cleanup.policy": "compact" } },
      { name: topics.foreign, partitions: 1 },
      { name: topics.mismatch, partitions: 3 },
      { name: topics.fresh, partitions: 2 },
    ]),
  );
  await withAdmin(target(), (a) => a.createTopics([{ name: topics.foreign, partitions: 1 }, { name: topics.mismatch, partitions: 2 }]));
  await produce(source(), topics.trimmed, 100);
  await produce(source(), topics.trimmedOverLimit, 100);
  await produce(source(), topics.compacted, 20, 1, true);
  await produce(source(), topics.foreign, 3);
  await produce(target(), topics.foreign, 5);
  await produce(source(), topics.fresh, 10, 2);
  await withAdmin(source(), async (a) => {
    await a.deleteRecords([{ topic: topics.trimmed, partition: 0, offset: 60 }, { topic: topics.trimmedOverLimit, partition: 0, offset: 60 }]);
    await a.alterConsumerGroupOffsets(group, [{ topic: topics.fresh, partition: 0, offset: 4 }]);
    await a.alterConsumerGroupOffsets(otherGroup, [{ topic: topics.fresh, partition: 1, offset: 2 }]);
  });
  dir = tempDir();
  file = join(dir, "migration.yaml");
  writeFileSync(
    file,
    `clusters:
  source: { bootstrap: "${source().bootstrap}" }
  target: { bootstrap: "${target().bootstrap}" }
link:
  name: plan-test
  topics: [${Object.values(topics).join(", ")}]
  overrides:
    ${topics.trimmedOverLimit}: { prefixFillLimit: 10 }
groups: [${group}]
`,
  );
});

describe("klink plan against the test clusters", () => {
  let plan: Plan;
  let code: number;
  let text: string;
  beforeAll(async () => {
    const json = await klink("plan", file, "--json");
    code = json.code;
    plan = JSON.parse(json.stdout);
    text = (await klink("plan", file)).stdout;
  });
  const topic = (name: string) => plan.topics.find((t) => t.topic === name)!;
  const problems = (subject: string) => plan.problems.filter((p) => p.subject === subject).map((p) => `${p.severity}: ${p.message}`);

  test("exits 1 because the plan has errors, and names both clusters", () => {
    expect(code).toBe(1);
    expect(plan.clusters.source.bootstrap).toBe(source().bootstrap);
    expect(plan.clusters.target.brokers).toBe(1);
  });

  test("a retention-trimmed topic: log start 60, exact offsets after filling 60 slots", () => {
    expect(topic(topics.trimmed).partitionPlans).toEqual([
      { partition: 0, sourceLogStart: 60, sourceLogEnd: 100, startOffset: 60, target: "missing", targetLogStart: null, targetLogEnd: null, mode: "exact", why: "fills 60 offsets, then moves the target's log start to 60 (DeleteRecords)" },
    ]);
    expect(topic(topics.trimmed).create).toEqual({ partitions: 1, replicationFactor: null, configs: { "segment.bytes": "4096", "retention.ms": "86400000" }, skipped: {} });
    expect(text).toContain(`  ${topics.trimmed}  1 partition; create on the target with 1 partition, replication factor (broker default), configs `);
  });

  test("a prefix above prefixFillLimit: translate, and why", () => {
    const [p] = topic(topics.trimmedOverLimit).partitionPlans;
    expect(p!.mode).toBe("translate");
    expect(p!.why).toBe("aligning the start needs 60 filler offsets, more than link.prefixFillLimit (10)");
  });

  test("a compacted topic: a warning about compaction holes", () => {
    expect(topic(topics.compacted).cleanupPolicy).toBe("compact");
    expect(topic(topics.compacted).create!.configs["cleanup.policy"]).toBe("compact");
    expect(problems(`topic ${topics.compacted}`)).toEqual([
      "warning: compacted (cleanup.policy=compact): records removed by compaction leave holes that klink fills with filler records " +
        "(key klink.filler) in transactions that abort: invisible to read_committed consumers, removed by the target's own cleaner",
    ]);
  });

  test("an existing non-empty target topic: foreign data, copied after it in translate mode (offsets: auto), a warning", () => {
    expect(topic(topics.foreign).partitionPlans[0]).toMatchObject({
      target: "foreign data", targetLogStart: 0, targetLogEnd: 5, mode: "translate",
      why: "the target partition already holds offsets 0..4 that klink did not write (kept in exact mode if they are an exact copy of the source, which run checks)",
    });
    expect(problems(`topic ${topics.foreign}`)).toEqual([
      "warning: the target topic already holds data klink did not write (partition 0): klink copies after it in translate mode, unless it is an exact copy of the source; for identical offsets delete the records (kafka-delete-records), delete the topic, or exclude it",
    ]);
  });

  test("a partition-count mismatch: an error saying how to fix it", () => {
    expect(topic(topics.mismatch).target).toEqual({ partitions: 2, linkedState: null });
    expect(problems(`topic ${topics.mismatch}`)).toEqual([
      "error: partition count mismatch: the source has 3, the target 2; add partitions on the target (kafka-topics --alter --partitions 3) or delete the target topic",
    ]);
    // the target's two empty partitions align; the third does not exist there
    expect(topic(topics.mismatch).partitionPlans.map((p) => p.target)).toEqual(["empty", "empty", "missing"]);
  });

  test("groups: the selected one with its state and protocol, another reader of a linked topic warned about", () => {
    expect(plan.groups).toEqual([
      { group, state: "Empty", protocol: "classic", assignor: "", members: 0, linkedTopics: [topics.fresh], otherTopics: [], handoff: "fence", target: null },
    ]);
    expect(problems(`group ${otherGroup}`)).toEqual([`warning: reads linked topic ${topics.fresh} but is not in groups: its offsets will not be handed off`]);
  });

  test("nothing was written: no target topic created, no state file", async () => {
    const onTarget = await withAdmin(target(), async (a) => a.listTopics().map((t) => t.name));
    for (const t of [topics.trimmed, topics.compacted, topics.fresh]) expect(onTarget).not.toContain(t);
    expect(existsSync(join(dir, "migration.klink.db"))).toBe(false);
  });
});

test("a target topic klink's state says it wrote: already linked, resumes at the target's end; the state file is only read", async () => {
  const linkedDir = tempDir({ "migration.yaml": readFileSync(file, "utf8") });
  const state = new SqliteStore(join(linkedDir, "migration.klink.db"));
  await state.write([{ topic: topics.foreign, state: "mirroring" }, { partition: { topic: topics.foreign, partition: 0 }, mode: "exact", sinceOffset: 0 }]);
  await state.close();
  const before = readFileSync(join(linkedDir, "migration.klink.db"));
  const r = await klink("plan", join(linkedDir, "migration.yaml"), "--json");
  const plan: Plan = JSON.parse(r.stdout);
  const t = plan.topics.find((x) => x.topic === topics.foreign)!;
  expect(t.target).toEqual({ partitions: 1, linkedState: "mirroring" });
  expect(t.partitionPlans[0]).toMatchObject({ target: "linked", mode: "exact", why: "resumes at the target's end offset 5" });
  expect(plan.problems.filter((p) => p.subject === `topic ${topics.foreign}`)).toEqual([]);
  expect(readFileSync(join(linkedDir, "migration.klink.db")).equals(before)).toBe(true);
});
