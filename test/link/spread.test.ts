/**
 * link.spread (#15, docs/workers.md "Spreading partitions"): the klinks standing by for a link
 * copy the partitions its runner lends them. Several workers on one link under a steady producer:
 * a worker killed (-9), the runner killed (-9) while others hold partitions, one stopped with
 * SIGTERM, new ones joining. The oracle reads both clusters with a test consumer: every record
 * once, at its source offset.
 */
import { afterAll, expect, test } from "bun:test";
import { source, target, uniqueName, until, withAdmin } from "../helpers.ts";
import { DualWriteWorkload } from "./dual-write-workload.ts";
import { caughtUp, klink, runInBackground, spawnKlink, steadyProducer, writeMigration } from "./klink-process.ts";
import { expectExactCopy } from "./exact-copy.ts";

const running = new Set<ReturnType<typeof spawnKlink>>();
afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
});

const start = (file: string) => runInBackground(file, running);
const count = (log: string, what: RegExp) => (log.match(what) ?? []).length;
/** A source topic of `partitions`, and the migration.yaml of a worker of its link (`spread: false`: a plain standby). */
async function spreadLink(prefix: string, partitions: number) {
  const topic = uniqueName(prefix);
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions }]));
  const link = uniqueName(prefix);
  const file = (spread = true) => writeMigration({ topics: [topic], linkName: link, linkExtra: `  standby: true\n${spread ? "  spread: true\n" : ""}`, extra: "storage:\n  plugin: kafka\n" });
  return { topic, link, spreadFile: () => file(), plainFile: () => file(false) };
}

/** The last records: one klink of the link (standby, not spread) until caught up; then every record once at its source offset. */
async function lastRunThenExactCopy(plainFile: string, topic: string, produced: number): Promise<void> {
  const last = await klink(["run", plainFile, "--until-caught-up"]);
  expect(last.code).toBe(0);
  await expectExactCopy(topic, produced);
}

/** The partitions of `topic` that `klink status` lists under the worker with `pid` ("t[0-2,5]" → 0,1,2,5). */
function partitionsOf(listed: string, pid: number, topic: string): number[] {
  const ranges = new RegExp(`pid ${pid} on host .*\\n +${topic}\\[([\\d,-]+)\\]`).exec(listed)?.[1];
  return (ranges ?? "").split(",").filter(Boolean).flatMap((r) => {
    const [from, to = from] = r.split("-").map(Number);
    return Array.from({ length: to! - from! + 1 }, (_, i) => from! + i);
  });
}

const lends = /lent \d+ partition\(s\) to other workers/;
const copying = /: copying from offset \d+ \(lent by the worker that runs the link\)/g;

test("link.spread: workers copy lent partitions; kill -9 of a worker and of the runner, SIGTERM, joins; every record once, at its source offset", async () => {
  const { topic, link, spreadFile, plainFile } = await spreadLink("spread", 6);
  const load = steadyProducer(source(), topic, 6);

  const all: Array<ReturnType<typeof start>> = [];
  const worker = () => {
    const w = start(spreadFile());
    all.push(w);
    return w;
  };
  try {
    await scenario();
  } catch (err) {
    for (const [i, w] of all.entries()) console.log(`--- worker ${i} (pid ${w.proc.pid}) ---\n${w.log().split("\n").filter((l) => !l.includes("records/s")).join("\n")}`);
    throw err;
  }
  async function scenario() {
  const a = worker();
  await until("A runs the link", () => a.log().includes(`this klink runs link ${link}`), 60_000, a.status);
  const b = worker();
  await until("A lends partitions to B", () => lends.test(a.log()), 90_000, a.status);
  await until("B copies them", () => count(b.log(), copying) > 0, 60_000, b.status);
  expect(b.log()).toMatch(/given \d+ partition\(s\) to copy: \d+ let go of cleanly by their last worker, copied at once/); // A lent them cleanly: no wait
  const c = worker();
  await until("C copies partitions too", () => count(c.log(), copying) > 0, 90_000, c.status);
  // klink status at the runner: every worker, and which partitions each copies
  const copies = `\\n +${topic}\\[[\\d,-]+\\]`; // the partitions it copies, per topic: t[0-2,5]
  const roles = new RegExp(`pid ${a.proc.pid} on host .*: runs the link, copies \\d+ partitions?${copies}\\n(.*\\n)*.*pid ${c.proc.pid} on host .*: standby, copies \\d+ partitions?${copies}`);
  let listed = "";
  for (const deadline = Date.now() + 30_000; !roles.test(listed) && Date.now() < deadline; await Bun.sleep(500)) listed = (await klink(["status", a.file])).stdout;
  expect(listed).toMatch(roles);

  // a worker killed: its partitions (as klink status lists them) go to the others after its session timeout and the wait
  let ofB: number[] = [];
  for (const deadline = Date.now() + 30_000; !ofB.length && Date.now() < deadline; await Bun.sleep(500)) ofB = partitionsOf((await klink(["status", a.file])).stdout, b.proc.pid, topic);
  expect(ofB.length).toBeGreaterThan(0);
  const startedElsewhere = (p: number) => count(a.log() + c.log(), new RegExp(`${topic}\\[${p}\\]: (copying from offset|taken back from another worker)`, "g"));
  const before = ofB.map(startedElsewhere);
  const bKilled = Date.now();
  b.proc.kill("SIGKILL");
  await b.exited;
  await until("B's partitions are copied by others", () => ofB.every((p, i) => startedElsewhere(p) > before[i]!), 120_000, a.status);
  const afterWorkerKill = Date.now() - bKilled;
  expect(a.log() + c.log()).not.toContain("let go of cleanly: "); // B was killed: the runner waited for what it may still send

  // the runner killed while C holds partitions: C (or D) runs the link once no one else copies
  const d = worker();
  await until("D stands by", () => d.log().includes("standby: another klink runs link"), 60_000, d.status);
  const aKilled = Date.now();
  a.proc.kill("SIGKILL");
  await a.exited;
  await until("C or D runs the link", () => c.log().includes(`this klink runs link ${link}`) || d.log().includes(`this klink runs link ${link}`), 120_000);
  const runner = c.log().includes(`this klink runs link ${link}`) ? c : d;
  const other = runner === c ? d : c;
  const copiedBefore = count(other.log(), copying); // what it copied for A (given back when A died)
  await until("the new runner lends partitions again", () => lends.test(runner.log()), 120_000, runner.status);
  const afterRunnerKill = Date.now() - aKilled;
  await until("the other worker copies what the new runner lent", () => count(other.log(), copying) > copiedBefore, 90_000, other.status);

  // a worker stopped with SIGTERM lets go at once
  const termAt = Date.now();
  const takenBack = count(runner.log(), /taken back from another worker/g);
  other.proc.kill("SIGTERM");
  expect(await other.exited).toBe(0);
  await until("the runner takes the partitions back", () => count(runner.log(), /taken back from another worker/g) > takenBack, 60_000, runner.status);
  const afterTerm = Date.now() - termAt;
  expect(runner.log()).toMatch(/taking back \d+ partition\(s\) the other workers let go of cleanly/); // no wait: every write of the stopped worker was answered

  const produced = await load.stop();
  runner.proc.kill("SIGTERM");
  expect(await runner.exited).toBe(0);
  await lastRunThenExactCopy(plainFile(), topic, produced);
  console.log(`spread: a killed worker's partitions copied again ${afterWorkerKill} ms after its kill -9; the runner's kill -9 to lending again ${afterRunnerKill} ms; SIGTERM to taken back ${afterTerm} ms`);
  }
}, 600_000);

test("link.spread: a worker paused (SIGSTOP) past its session with partitions lent to it: the runner takes them back and copies on; woken, the worker writes nothing of its old partitions and rejoins; every record once, at its source offset", async () => {
  const { topic, link, spreadFile, plainFile } = await spreadLink("spread-stop", 4);
  const load = steadyProducer(source(), topic, 4, 200); // 4,000 records/s: a round of the fast lane is never empty
  const a = start(spreadFile());
  await until("A runs the link", () => a.log().includes(`this klink runs link ${link}`), 60_000, a.status);
  const b = start(spreadFile());
  await until("B copies lent partitions", () => count(b.log(), copying) >= 2, 90_000, b.status);
  await Bun.sleep(2_000);

  const taken = count(a.log(), /taken back from another worker/g);
  b.proc.kill("SIGSTOP");
  await until("A takes B's partitions back", () => count(a.log(), /taken back from another worker/g) > taken, 90_000, a.status);
  expect(a.log()).not.toContain("let go of cleanly"); // B did not let go: A waited for what B may still send
  await Bun.sleep(3_000); // A copies them on while B sleeps
  b.proc.kill("SIGCONT");
  await until("B, woken, says its lease ended", () => /lease ended|no longer knows this worker/.test(b.log()), 60_000, b.status);
  await Bun.sleep(5_000); // B rejoins; whatever it still held would be written now
  expect(b.proc.exitCode).toBeNull();

  const produced = await load.stop();
  b.proc.kill("SIGTERM");
  expect(await b.exited).toBe(0);
  a.proc.kill("SIGTERM");
  expect(await a.exited).toBe(0);
  await lastRunThenExactCopy(plainFile(), topic, produced);
}, 300_000);

test("link.spread under dual write: librdkafka and Verifiable producers move to the target while a worker copies lent partitions (and one is killed); both clusters end with every acknowledged record once, in order, identical", async () => {
  const { topic, link, spreadFile } = await spreadLink("spread-dual", 6);
  const w = new DualWriteWorkload({ topic, clusters: { source: source(), target: target() }, rate: 250, log: () => {} });
  const workers: Array<ReturnType<typeof start>> = [];
  try {
    await w.start("source");
    const a = start(spreadFile());
    workers.push(a);
    await until("A runs the link", () => a.log().includes(`this klink runs link ${link}`), 60_000, a.status);
    const b = start(spreadFile());
    workers.push(b);
    await until("B copies lent partitions", () => count(b.log(), copying) >= 2, 90_000, b.status);
    const c = start(spreadFile());
    workers.push(c);
    await until("C copies lent partitions", () => count(c.log(), copying) >= 1, 90_000, c.status);
    for (const p of w.producers) {
      await w.move(p.index, "target");
      if (p.index === 1) b.proc.kill("SIGKILL"); // a worker dies in the middle of the move
      await Bun.sleep(3_000);
    }
    await until("A routes the target's records back (dual write)", () => a.log().includes("dual-write"), 60_000, a.status);
    await Bun.sleep(5_000);
    await w.stop();
    const converged = await w.converge({ deadlineMs: 240_000, quietMs: 40_000 });
    const report = await w.check();
    if (!report.ok || !converged.converged) {
      throw new Error(`${report.text}\n${workers.map((x, i) => `--- worker ${i} (pid ${x.proc.pid}) ---\n${x.log().split("\n").filter((l) => !l.includes("records/s")).join("\n")}`).join("\n")}`);
    }
  } finally {
    await w.kill();
    for (const x of workers) x.proc.kill("SIGKILL");
  }
}, 600_000);

test("link.spread: a promote of a topic that another worker copies is refused until its partitions are back and quiet (the runner does not see their source writes); once producers stop, it promotes; every record once", async () => {
  // two topics of one partition each: the runner keeps one, the worker is lent the other
  const topics = [uniqueName("spread-promote"), uniqueName("spread-promote")];
  await withAdmin(source(), (a) => a.createTopics(topics.map((name) => ({ name, partitions: 1 }))));
  const link = uniqueName("spread-promote");
  const file = () => writeMigration({ topics, linkName: link, linkExtra: "  standby: true\n  spread: true\n", extra: "storage:\n  plugin: kafka\n" });
  const loads = topics.map((t) => steadyProducer(source(), t, 1, 5));
  const a = start(file());
  await until("A runs the link", () => a.log().includes(`this klink runs link ${link}`), 60_000, a.status);
  const b = start(file());
  await until("B copies a lent partition", () => count(b.log(), copying) > 0, 90_000, b.status);
  await Bun.sleep(12_000); // longer than promote's 10 s of quiet: only B sees the lent topic's writes
  const lentTopic = /(\S+)\[0\]: copying from offset/.exec(b.log())![1]!;
  expect(topics).toContain(lentTopic);

  const first = await klink(["promote", a.file, lentTopic]);
  expect(first.stderr).toContain(`other workers copy partitions of ${lentTopic}`);
  expect(first.code).toBe(2);
  await until("A has the lent topic back", () => a.log().includes(`${lentTopic}[0]: taken back from another worker`), 60_000, a.status);
  const again = await klink(["promote", a.file, lentTopic]);
  expect(again.stderr).toContain("a producer may still write");
  expect(again.code).toBe(2);

  const produced = await Promise.all(loads.map((l) => l.stop()));
  for (const t of topics) await caughtUp(t, 1);
  await Bun.sleep(11_000);
  const promoted = await klink(["promote", a.file, lentTopic]);
  expect(promoted.stdout).toContain(`${lentTopic}: promoted`);
  expect(promoted.code).toBe(0);
  b.proc.kill("SIGTERM");
  a.proc.kill("SIGTERM");
  expect(await b.exited).toBe(0);
  expect(await a.exited).toBe(0);
  for (const [i, t] of topics.entries()) await expectExactCopy(t, produced[i]!);
}, 300_000);
