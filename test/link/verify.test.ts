/**
 * `klink verify` fails on any difference (issue 11): copies made by `klink run
 * --until-caught-up`, then changed behind klink's back on the target: a log start moved by
 * DeleteRecords, a log end moved by an aborted transaction, a record at another offset, an extra
 * record at the end. An identical copy exits 0; a translate-mode partition (dual write) says how
 * many records are not at their source offset and still exits 0 when every record is on both
 * clusters once.
 */
import { test, expect } from "bun:test";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import { writeMigration, klink } from "./klink-process.ts";

const PER_PARTITION = 50;
const record = (partition: number, i: number) => ({ key: `k${partition}-${i}`, value: `v${partition}-${i}`, headers: [["i", String(i)]] as Array<[string, string]>, timestamp: 1_700_000_000_000 + i });

async function produce(cluster: ReturnType<typeof source>, topic: string, records: Array<{ partition: number; i: number }>): Promise<void> {
  const p = new Producer(plain(cluster, { "linger.ms": 5 }));
  for (const { partition, i } of records) p.produce({ topic, partition, ...record(partition, i) });
  await p.flush();
  await p.close();
}

/** A topic of `partitions` partitions with PER_PARTITION records each on the source, copied by klink. */
async function copied(name: string, partitions: number): Promise<{ topic: string; file: string }> {
  const topic = uniqueName(name);
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions, configs: { "retention.ms": "-1" } }]));
  await produce(source(), topic, Array.from({ length: partitions * PER_PARTITION }, (_, n) => ({ partition: n % partitions, i: Math.floor(n / partitions) })));
  const file = writeMigration({ topics: [topic], linkName: uniqueName(name) });
  const run = await klink(["run", file, "--until-caught-up"]);
  expect(run.stderr).not.toContain("stopped:");
  expect(run.code).toBe(0);
  return { topic, file };
}

const line = (stdout: string, topic: string, partition: number) => stdout.split("\n").find((l) => l.startsWith(`${topic}[${partition}] `)) ?? `(no line for ${topic}[${partition}] in:\n${stdout})`;

test("exact partitions: a trimmed log start, a log end further on, a record at another offset and an extra record each fail verify", async () => {
  const { topic, file } = await copied("verify-exact", 4);
  const n = PER_PARTITION;
  const ok = await klink(["verify", file]);
  expect(ok.stdout).toContain(`identical: ${4 * n} records in 4 partitions`);
  expect(ok.code).toBe(0);
  /** Runs verify: it must fail, partition 0 (never touched) must still be identical; returns the lines of the others. */
  const different = async (): Promise<string[]> => {
    const r = await klink(["verify", file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("NOT identical");
    expect(line(r.stdout, topic, 0)).toStartWith(`${topic}[0] identical:`);
    return [1, 2, 3].map((p) => line(r.stdout, topic, p));
  };

  // Partition 3: the target's log start moved (its first records deleted).
  await withAdmin(target(), (a) => a.deleteRecords([{ topic, partition: 3, offset: 10 }]));
  let [p1, p2, p3] = await different();
  expect(p3).toContain(`${topic}[3] DIFFERENT:`);
  expect(p3).toContain("10 missing on target");
  expect(p3).toContain("log start offsets differ: source 0, target 10");

  // Partition 1: an aborted transaction on the target: no record differs, but its log ends two offsets further.
  const txn = new Producer(plain(target(), { "transactional.id": uniqueName("verify-txn") }));
  txn.initTransactions();
  txn.beginTransaction();
  txn.produce({ topic, partition: 1, key: "aborted", value: "aborted" });
  await txn.flush();
  await txn.abortTransaction();
  await txn.close();
  [p1] = await different();
  expect(p1).toContain(`${topic}[1] DIFFERENT: offsets 0..${n + 1}, ${n} records compared, 0 differ, 0 missing on target, 0 only on target; log end offsets differ: source ${n}, target ${n + 2}`);

  // ...so the same next record lands two offsets later on the target than on the source, as a shifted copy would.
  await produce(source(), topic, [{ partition: 1, i: n }]);
  await produce(target(), topic, [{ partition: 1, i: n }]);
  [p1] = await different();
  expect(p1).toContain(`1 at another offset on the target (source ${n} → target ${n + 2})`);
  expect(p1).toContain(`log end offsets differ: source ${n + 1}, target ${n + 3}`);
  expect(p1).toContain(`first difference at offset ${n}: the source record is at target offset ${n + 2}`);

  // Partition 2: one record only on the target, at the end.
  const extra = new Producer(plain(target()));
  await extra.send({ topic, partition: 2, key: "extra", value: "extra" });
  await extra.close();
  [p1, p2, p3] = await different();
  expect(p2).toContain(`${topic}[2] DIFFERENT:`);
  expect(p2).toContain("1 only on target");
  expect(p2).toContain(`log end offsets differ: source ${n}, target ${n + 1}`);
  expect(p2).toContain(`first difference at offset ${n}: target record not on the source`);

  const json = JSON.parse((await klink(["verify", file, "--json"])).stdout);
  expect(json.identical).toBe(false);
  expect(json.partitions.map((p: { identical: boolean }) => p.identical)).toEqual([true, false, false, false]);
  expect(json.partitions[1]).toMatchObject({ mode: "exact", notAtSourceOffset: 1, notAtSourceOffsetExamples: [{ sourceOffset: n, targetOffset: n + 2 }] });
}, 300_000);

test("translate partitions (dual write): records not at their source offset are counted, not a difference; a record on one cluster only is", async () => {
  const { topic, file } = await copied("verify-translate", 2);
  // A producer writes to the target's partition 0 while klink is stopped, and another to the
  // source's: klink's next run finds the divergence, copies both ways, and maps the offsets.
  const n = PER_PARTITION;
  await produce(target(), topic, [{ partition: 0, i: 1000 }]);
  await produce(source(), topic, [{ partition: 0, i: n }]);
  const run = await klink(["run", file, "--until-caught-up"]);
  expect(run.stderr).not.toContain("stopped:");
  expect(run.code).toBe(0);

  const ok = await klink(["verify", file]);
  expect(ok.code).toBe(0);
  expect(line(ok.stdout, topic, 0)).toContain(`${topic}[0] identical through the offset map:`);
  expect(line(ok.stdout, topic, 0)).toContain(`translate mode: 2 of ${n + 2} records not at their source offset (source ${n} → target ${n + 1}, source ${n + 1} → target ${n})`);
  expect(line(ok.stdout, topic, 1)).toStartWith(`${topic}[1] identical:`);
  expect(ok.stdout).toContain(`identical: ${2 * n + 2} records in 2 partitions (2 of them, in translate mode, not at their source offset)`);

  // A record written to the target while klink is stopped is on the target only: a difference.
  await produce(target(), topic, [{ partition: 0, i: 1001 }]);
  const bad = await klink(["verify", file]);
  expect(bad.code).toBe(2);
  expect(line(bad.stdout, topic, 0)).toContain(`${topic}[0] DIFFERENT:`);
  expect(line(bad.stdout, topic, 0)).toContain(`first difference at offset ${n + 2}: target record not on the source (no offset-map row names it)`);
}, 300_000);
