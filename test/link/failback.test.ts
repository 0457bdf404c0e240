/**
 * Failback after promote (link.failback, issue 18 item 5): promote keeps the source as a live
 * replica of the target, so producers and a consumer group can move back to the source later,
 * across a restart of klink, through the same read fence. The oracle reads both clusters with a
 * test consumer and counts what a VerifiableConsumer group processed: every record once on each
 * cluster, every record processed once.
 */
import { test, expect, afterAll } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin, until } from "../helpers.ts";
import { verifiableConsumer, stopAllTools, type ToolEvent } from "../harness/tools.ts";
import type { KafkaCluster } from "../harness/cluster.ts";
import { readTopic } from "./dual-write-workload.ts";
import { writeMigration, spawnKlink, klink, movingProducer, caughtUp } from "./klink-process.ts";

const running = new Set<ReturnType<typeof spawnKlink>>();
afterAll(async () => {
  for (const p of running) p.kill("SIGKILL");
  await stopAllTools();
});

/** The migration file with `link.failback: true`. */
function withFailback(file: string): string {
  writeFileSync(file, readFileSync(file, "utf8").replace("  offsets: auto\n", "  offsets: auto\n  failback: true\n"));
  return file;
}

/** klink's logs of the running test, printed when it fails (which handoff or failback step went wrong). */
let klinkLogs: Array<Promise<string>> = [];
async function printingKlinkLogs(body: () => Promise<void>): Promise<void> {
  klinkLogs = [];
  try {
    await body();
  } catch (err) {
    for (const p of running) p.kill("SIGKILL"); // its log ends with it
    for (const [i, log] of klinkLogs.entries()) console.error(`--- klink run ${i + 1} (its log)\n${await log}`);
    throw err;
  }
}

function startKlink(file: string) {
  const proc = spawnKlink(["run", file]);
  running.add(proc);
  const log = new Response(proc.stderr).text();
  klinkLogs.push(log);
  void new Response(proc.stdout).text(); // drained: klink never blocks on a full pipe
  return { proc, log, stop: async () => (proc.kill("SIGTERM"), await proc.exited, running.delete(proc), await log) };
}

test("promote with link.failback keeps the source a live replica; days later (a restart between) failback moves the group and the producer back: every record once on each cluster, processed once", () => printingKlinkLogs(async () => {
  const topic = uniqueName("failback");
  const partitions = 3;
  const group = uniqueName("failback-group");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions, configs: { "retention.ms": "-1" } }]));
  const file = withFailback(writeMigration({ topics: [topic], linkName: uniqueName("failback"), extra: `groups:\n  names: [${group}]\n` }));

  // One producer writes keys p-0, p-1, ...; it moves source → target → source.
  const load = movingProducer(source(), topic, partitions);
  const members: Array<{ stop: () => Promise<void>; events: ToolEvent[] }> = [];
  const consumeOn = async (c: KafkaCluster) => {
    const tool = await verifiableConsumer(c, { topic, groupId: group, groupProtocol: "classic", verbose: true });
    const events: ToolEvent[] = [];
    void (async () => {
      for await (const e of tool.events) events.push(e);
    })();
    members.push({ stop: () => tool.stop(), events });
  };
  await consumeOn(source());
  await until("the group commits on the source", () => members[0]!.events.some((e) => e.name === "offsets_committed"));

  let klinkRun = startKlink(file);
  const state = async () => {
    const r = await klink(["status", file, "--json"]);
    if (r.code !== 0) return { topic: "", group: "" };
    const s = JSON.parse(r.stdout);
    return { topic: s.topics.find((t: { topic: string }) => t.topic === topic)?.state ?? "", group: s.groups.find((g: { group: string }) => g.group === group)?.state ?? "" };
  };
  await until("the group is held on the target", async () => (await state()).group === "fenced");
  await caughtUp(topic, partitions); // before producers move (seen in CI: klink's first copy 0.8 s after start, the group read copies again)

  // Producers move first (dual write), then the group; then promote.
  const phases = { source: load.produced, target: 0, afterPromote: 0, back: 0 };
  load.moveTo(target());
  expect((await klink(["handoff", file, group])).code).toBe(0);
  await members[0]!.stop();
  await consumeOn(target());
  await until("the group is handed off", async () => (await state()).group === "handed-off");
  await Bun.sleep(11_000); // promote waits for 10 s without source writes
  const promoted = await klink(["promote", file, topic]);
  expect(promoted.stdout).toContain(`${topic}: promoted`);
  expect(promoted.stdout).toContain("live replica");
  expect(promoted.code).toBe(0);
  expect((await state()).topic).toBe("promoted-replica");
  // rollback is for topics not promoted: it says what to use instead
  const rollback = await klink(["rollback", file, topic]);
  expect(rollback.code).toBe(2);
  expect(rollback.stderr).toContain("klink failback");

  // The target is primary; what its producer writes reaches the source, also across a restart of klink.
  const ends = async (c: KafkaCluster) => (await withAdmin(c, (a) => a.watermarks([...Array(partitions).keys()].map((partition) => ({ topic, partition }))))).reduce((n, m) => n + m.high, 0);
  const sourceAtPromote = await ends(source());
  const atPromote = load.produced;
  await until("records written to the target after promote reach the source", async () => (await ends(source())) > sourceAtPromote);
  await klinkRun.stop();
  const sourceAtStop = await ends(source());
  await Bun.sleep(3_000); // the producer goes on writing to the target while klink is down
  klinkRun = startKlink(file);
  await until("klink runs again, the topic still promoted with its replica", async () => (await state()).topic === "promoted-replica");
  await until("records written to the target while klink was down reach the source", async () => (await ends(source())) > sourceAtStop);

  // Failback: the group moves back through the read fence, then the producer.
  const back = await klink(["failback", file, topic]);
  expect(back.stdout).toContain(`${topic}: rolled back`);
  expect(back.code).toBe(0);
  await members[1]!.stop();
  await consumeOn(source());
  await until("the group is back on the source", async () => (await state()).group === "rolled-back");
  const movedBack = load.produced;
  load.moveTo(source());
  await Bun.sleep(4_000);
  const produced = await load.stop();
  Object.assign(phases, { target: atPromote - phases.source, afterPromote: movedBack - atPromote, back: produced - movedBack });

  // Every record once on each cluster.
  const keys = async (c: KafkaCluster) => (await readTopic(c, topic)).map((r) => r.key!.toString());
  const expected = [...Array(produced).keys()].map((n) => `p-${n}`).sort();
  await until("both clusters have every record", async () => (await keys(source())).length >= produced && (await keys(target())).length >= produced, 120_000);
  expect((await keys(source())).sort()).toEqual(expected);
  expect((await keys(target())).sort()).toEqual(expected);

  // The group processed every record once, on the source, then the target, then the source again.
  const processed = () => members.flatMap((m) => m.events.filter((e) => e.name === "record_data").map((e) => String(e.key)));
  await until("the group has processed every record", () => new Set(processed()).size >= produced, 120_000);
  const seen = new Map<string, number>();
  for (const k of processed()) seen.set(k, (seen.get(k) ?? 0) + 1);
  expect([...seen].filter(([, n]) => n > 1).slice(0, 5)).toEqual([]);
  expect(expected.filter((k) => !seen.has(k)).slice(0, 5)).toEqual([]);
  for (const m of members) expect(m.events.some((e) => e.name === "record_data")).toBe(true);
  console.log(`failback: ${produced} records (${phases.source} to the source, ${phases.target} to the target before promote, ${phases.afterPromote} after it, ` +
    `across a restart of klink, until the producer moved back; ${phases.back} to the source after failback): ` +
    `each once on both clusters; the group (source, target, source) processed each once`);

  await klinkRun.stop();
  for (const m of members) await m.stop();
}), 600_000);

test("failback and retire refuse topics in the wrong state, saying what to do; retire ends the replica", async () => {
  const topic = uniqueName("retire");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  const file = withFailback(writeMigration({ topics: [topic], linkName: uniqueName("retire") }));
  const run = startKlink(file);
  await until("klink answers", async () => (await klink(["status", file])).code === 0);
  const early = await klink(["failback", file, topic]);
  expect(early.code).toBe(2);
  expect(early.stderr).toContain("not promoted (mirroring): klink rollback");
  expect((await klink(["retire", file, topic])).stderr).toContain("not promoted (mirroring): promote it first");

  expect((await klink(["promote", file, topic, "--force"])).code).toBe(0); // forced: klink started less than 10 s ago
  const retired = await klink(["retire", file, topic]);
  expect(retired.stdout).toContain(`${topic}: retired`);
  expect(retired.code).toBe(0);
  // Retired: the target's writes stay there.
  const producer = new Producer(plain(target()));
  producer.produce({ topic, partition: 0, key: "after-retire", value: "x" });
  await producer.flush();
  await producer.close();
  await Bun.sleep(3_000);
  expect((await readTopic(source(), topic)).map((r) => r.key?.toString())).not.toContain("after-retire");
  const late = await klink(["failback", file, topic]);
  expect(late.code).toBe(2);
  expect(late.stderr).toContain("promoted without a source replica");
  await run.stop();
}, 300_000);
