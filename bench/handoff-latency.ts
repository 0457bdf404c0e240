/**
 * How long a consumer group pauses when klink hands it off (issue 7: "under 1 s from the last
 * source member leaving to the first target fetch"). Per round, on a fresh topic (slow producer
 * on the source) and a fresh group:
 *
 *   1. one member reads and commits on the source; `klink run` (cutover/auto) fences the group on
 *      the target; one member of the same kind joins there and is held (reads nothing);
 *   2. handoff: the source member stops; from the moment its close()/stop returned to the
 *      first record the target member consumed;
 *   3. baseline, same group on the target alone: a second member joins there, and once both read
 *      it stops; from the moment its close()/stop returned to the first record the remaining
 *      member consumed from the partitions it freed. An ordinary rebalance waits for the
 *      remaining member's next heartbeat; klink's handoff need not: the waiting member joined
 *      seconds before, so klink still keeps it parked inside JoinGroup (GroupFence, parkMs) and
 *      its leaving answers that JoinGroup at once.
 *
 * Next to it, klink's own part: when its log line "group G: handed off" arrived (offsets
 * committed, fence left) after the source member had left, and the "handed off N ms after its
 * last source member left" of its status (N counts from klink's first look at the empty source
 * group, which it polls every 200 ms).
 *
 * Client kinds: librdkafka consumers of src/rdkafka (subscribe, `range` and `cooperative-sticky`,
 * in this process) and Kafka's Java VerifiableConsumer (classic protocol, its default range
 * assignor). All with their default heartbeat.interval.ms (3 s), session and poll settings.
 *
 * Usage: KLINK_TEST_DIR=/tmp/klink-hbench npx bun bench/handoff-latency.ts [--rounds 5] [--kinds range,cooperative-sticky,java] [--heartbeat-ms N]
 * Uses the harness clusters of KLINK_TEST_DIR, starting them if they are not running and stopping
 * them again at the end. Runs a copy of dist/klink taken at start (KLINK_BENCH_KLINK_CMD='["bun","src/cli.ts"]'
 * runs another build). Writes bench/results/handoff-<date>.md (with --heartbeat-ms, a what-if:
 * bench/results/raw/handoff-heartbeat<N>-<date>.md).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Consumer, Producer } from "../src/rdkafka/index.ts";
import type { KafkaCluster } from "../test/harness/cluster.ts";
import { klinkSnapshot, testClusters } from "./test-clusters.ts";
import { stopAllTools, verifiableConsumer } from "../test/harness/tools.ts";
import { plain, uniqueName, withAdmin } from "../test/helpers.ts";

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const ROUNDS = Number(arg("rounds", "5"));
type Kind = "range" | "cooperative-sticky" | "java";
const KINDS = arg("kinds", "range,cooperative-sticky,java").split(",") as Kind[];
const PARTITIONS = 3;
/** The slow producer: records per 50 ms tick, round-robin over the partitions (200/s). */
const PER_TICK = 10;
/** After a group looks settled, before the measured member stops: no rebalance left in flight. */
const SETTLE_MS = 1_000;
/**
 * A waiting member learns of a rebalance from its next heartbeat (classic protocol), so where in
 * its heartbeat period the other member leaves decides most of the wait. A fixed pause before the
 * stop would sample one phase only: round n of N waits a further (n + 0.5) / N of the default
 * heartbeat.interval.ms (3 s, or --heartbeat-ms), the same in the handoff and the baseline of that round.
 */
const HEARTBEAT_ARG = arg("heartbeat-ms", "");
const HEARTBEAT_MS = HEARTBEAT_ARG ? Number(HEARTBEAT_ARG) : 3_000;
/** What-if (--heartbeat-ms N): heartbeat.interval.ms for every member; the report goes to bench/results/raw/. */
const HEARTBEAT_PROPS: Record<string, string> = HEARTBEAT_ARG ? { "heartbeat.interval.ms": HEARTBEAT_ARG } : {};
const phaseMs = (n: number) => Math.round(((n + 0.5) / ROUNDS) * HEARTBEAT_MS);

const KIND_LABEL: Record<Kind, string> = {
  range: "librdkafka, range",
  "cooperative-sticky": "librdkafka, cooperative-sticky",
  java: "Java VerifiableConsumer (classic, range)",
};

/** A group member as the benchmark sees it; `at` is this process's Date.now(). */
interface Member {
  /** Per consumed batch and partition, when the records reached the application. */
  consumed: Array<{ partition: number; at: number }>;
  /** It has committed offsets at least once. */
  committed(): boolean;
  /** Its current assignment (partition numbers). */
  assigned(): number[];
  /** Stops it (close() / the JVM's shutdown hook: LeaveGroup); resolves with when that returned. */
  stop(): Promise<number>;
}

/**
 * A librdkafka consumer of this repo's binding: subscribe, commit after every batch. It stops with
 * unsubscribe() before close(): a cooperative-sticky member that only calls close() (librdkafka
 * 2.15.1) terminates without sending LeaveGroup, and stays in the group until session.timeout.ms
 * (45 s) runs out, in the handoff and in the baseline alike.
 */
function rdkafkaMember(cluster: KafkaCluster, topic: string, group: string, strategy: string): Member {
  const consumer = new Consumer(plain(cluster, { "group.id": group, "partition.assignment.strategy": strategy, "auto.offset.reset": "earliest", ...HEARTBEAT_PROPS }));
  consumer.subscribe([topic]);
  const consumed: Member["consumed"] = [];
  let committed = false;
  let on = true;
  const loop = (async () => {
    while (on) {
      const messages = await consumer.consume(500, 100);
      const at = Date.now();
      const next = new Map<number, number>();
      for (const m of messages) {
        if (!m.errorCode) next.set(m.partition, Math.max(next.get(m.partition) ?? -1, m.offset + 1));
        m.destroy();
      }
      if (next.size === 0) continue;
      for (const partition of next.keys()) consumed.push({ partition, at });
      try {
        consumer.commit([...next].map(([partition, offset]) => ({ topic, partition, offset })));
        committed = true;
      } catch {
        // refused in a rebalance: the next batch commits further (no retry, which would stall the loop)
      }
    }
  })();
  let closed = false;
  return {
    consumed,
    committed: () => committed,
    assigned: () => consumer.assignment().map((p) => p.partition),
    async stop() {
      on = false;
      await loop;
      if (!closed) {
        consumer.unsubscribe();
        for (const deadline = Date.now() + 5_000; consumer.assignment().length > 0 && Date.now() < deadline; ) {
          for (const m of await consumer.consume(100, 5)) m.destroy();
        }
        consumer.close();
      }
      closed = true;
      return Date.now();
    },
  };
}

/** Kafka's VerifiableConsumer (a JVM of the cluster's version), classic protocol; commits after every poll. */
async function javaMember(cluster: KafkaCluster, topic: string, group: string): Promise<Member> {
  const tool = await verifiableConsumer(cluster, { topic, groupId: group, groupProtocol: "classic", props: HEARTBEAT_PROPS });
  const consumed: Member["consumed"] = [];
  const assigned = new Set<number>();
  let committed = false;
  void (async () => {
    for await (const e of tool.events) {
      const at = Date.now();
      const partitions = (e.partitions ?? []) as Array<{ partition: number }>;
      if (e.name === "records_consumed") for (const p of partitions) consumed.push({ partition: p.partition, at });
      else if (e.name === "offsets_committed" && e.success) committed = true;
      else if (e.name === "partitions_assigned") for (const p of partitions) assigned.add(p.partition);
      else if (e.name === "partitions_revoked") for (const p of partitions) assigned.delete(p.partition);
    }
  })();
  return {
    consumed,
    committed: () => committed,
    assigned: () => [...assigned],
    async stop() {
      await tool.stop();
      return Date.now();
    },
  };
}

const member = (kind: Kind, c: KafkaCluster, topic: string, group: string): Promise<Member> =>
  kind === "java" ? javaMember(c, topic, group) : Promise.resolve(rdkafkaMember(c, topic, group, kind));

async function until<T>(what: string, check: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 60_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}

/** The first batch at or after `since`, from `partitions` if given. */
function firstAfter(m: Member, since: number, partitions?: number[]): number | undefined {
  return m.consumed.find((c) => c.at >= since && (!partitions || partitions.includes(c.partition)))?.at;
}

interface GroupProgress {
  group: string;
  state: string;
  targetMembers: number;
  detail: string;
}

/** What `klink status --json` prints: the running klink's status endpoint. */
async function groupStatus(port: number, group: string): Promise<GroupProgress | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(2_000) });
    const body = (await res.json()) as { groups?: GroupProgress[] };
    return body.groups?.find((g) => g.group === group);
  } catch {
    return undefined;
  }
}

function slowProducer(c: KafkaCluster, topic: string) {
  const producer = new Producer(plain(c, { "linger.ms": 2 }));
  let on = true;
  const done = (async () => {
    for (let sent = 0; on; ) {
      for (let i = 0; i < PER_TICK; i++, sent++) producer.produce({ topic, partition: sent % PARTITIONS, key: `k${sent}`, value: `v${sent}` });
      await Bun.sleep(50);
    }
    await producer.close();
  })();
  return { stop: async () => ((on = false), await done) };
}

interface Round {
  kind: Kind;
  /** the pause beyond SETTLE_MS before each measured stop */
  phaseMs: number;
  /** last source member left → first record on the target */
  handoffMs: number;
  /** last source member left → klink's "handed off" log line */
  klinkReleasedMs: number;
  /** klink's own "handed off N ms after its last source member left" */
  klinkReportedMs: number | null;
  /** one of two target members left → first record of its partitions at the other */
  baselineMs: number;
  /** batches the waiting member consumed before the source member left (the fence let them through; should be 0) */
  readWhileFenced: number;
}

const { source, target, started } = await testClusters();
const dir = mkdtempSync(join(tmpdir(), "klink-handoff-bench-"));
const { argv, build } = klinkSnapshot(dir);
const klinks = new Set<Bun.Subprocess>();
process.on("SIGINT", () => {
  for (const p of klinks) p.kill("SIGKILL");
  void stopAllTools().finally(() => process.exit(130));
});

async function round(kind: Kind, n: number): Promise<Round> {
  const topic = uniqueName(`hbench-${kind}`);
  const group = uniqueName(`hbench-${kind}`);
  const port = 20000 + Math.floor(Math.random() * 10000);
  const members: Member[] = [];
  const newMember = async (c: KafkaCluster) => {
    const m = await member(kind, c, topic, group);
    members.push(m);
    return m;
  };
  let proc: Bun.Subprocess | null = null;
  const log: Array<{ at: number; line: string }> = [];
  await withAdmin(source, (a) => a.createTopics([{ name: topic, partitions: PARTITIONS, configs: { "retention.ms": "-1" } }]));
  const producer = slowProducer(source, topic);
  try {
    // 1. The group reads on the source; klink fences it on the target; a member waits there.
    const onSource = await newMember(source);
    await until("the source member's first commit", () => onSource.committed());
    const file = join(dir, `migration-${kind}-${n}.yaml`);
    writeFileSync(file, `clusters:\n  source: { bootstrap: "${source.bootstrap}" }\n  target: { bootstrap: "${target.bootstrap}" }\nlink:\n  name: ${topic}\n  topics: { names: [${topic}] }\n  start: earliest\nstatus:\n  listen: 127.0.0.1:${port}\ngroups:\n  names: [${group}]\ncutover:\n  plugin: auto\n  options: { promote: false }\n`);
    const klink = Bun.spawn([...argv, "run", file], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    proc = klink;
    klinks.add(klink);
    for (const stream of [klink.stdout, klink.stderr]) {
      void (async () => {
        let buf = "";
        for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
          const at = Date.now();
          const parts = (buf + chunk).split("\n");
          buf = parts.pop()!;
          for (const line of parts) log.push({ at, line });
        }
      })();
    }
    const klinkTail = () => log.slice(-20).map((l) => l.line).join("\n");
    await until("klink to fence the group", async () => (await groupStatus(port, group))?.state === "fenced", 60_000, 100).catch((err) => {
      throw new Error(`${err.message}\n${klinkTail()}`);
    });
    const waiting = await newMember(target);
    await until("klink to hold the waiting member", async () => ((await groupStatus(port, group))?.targetMembers ?? 0) >= 1, 60_000, 100);
    await Bun.sleep(SETTLE_MS + phaseMs(n));

    // 2. Handoff: the last source member leaves.
    const left = await onSource.stop();
    const firstOnTarget = await until("the waiting member's first record", () => firstAfter(waiting, left));
    const released = await until("klink's handed-off line", () => log.find((l) => l.line.includes(`group ${group}: handed off`))?.at, 10_000).catch(() => NaN);
    const detail = (await until("the handed-off status", async () => {
      const g = await groupStatus(port, group);
      return g?.state === "handed-off" && g.detail;
    }, 10_000, 100).catch(() => "")) as string;
    const reported = /handed off (\d+) ms/.exec(detail);
    const readWhileFenced = waiting.consumed.filter((c) => c.at < left).length;

    // 3. Baseline: a second member joins on the target; once both read, it leaves again.
    const joined = Date.now();
    const second = await newMember(target);
    await until("both target members reading", () => {
      const s = second.consumed.find((c) => c.at >= joined)?.at;
      return s !== undefined && firstAfter(waiting, s) !== undefined && second.assigned().length > 0;
    });
    await Bun.sleep(SETTLE_MS + phaseMs(n));
    const freed = second.assigned();
    const secondLeft = await second.stop();
    const firstOfFreed = await until(`the remaining member's first record of partitions ${freed.join(",")}`, () => firstAfter(waiting, secondLeft, freed));

    const r: Round = {
      kind,
      phaseMs: phaseMs(n),
      handoffMs: firstOnTarget - left,
      klinkReleasedMs: released - left,
      klinkReportedMs: reported ? Number(reported[1]) : null,
      baselineMs: firstOfFreed - secondLeft,
      readWhileFenced,
    };
    console.error(`${kind} #${n + 1} (+${phaseMs(n)} ms): handoff ${r.handoffMs} ms (klink released after ${r.klinkReleasedMs} ms; status: "${detail}"), baseline ${r.baselineMs} ms (freed ${freed.join(",")})${readWhileFenced ? `; ${readWhileFenced} batches read while fenced!` : ""}`);
    return r;
  } finally {
    for (const m of members) await m.stop().catch(() => 0);
    if (proc) {
      proc.kill("SIGTERM");
      const hard = setTimeout(() => proc?.kill("SIGKILL"), 15_000);
      await proc.exited;
      clearTimeout(hard);
      klinks.delete(proc);
      writeFileSync(join(dir, `klink-${kind}-${n}.log`), log.map((l) => `${l.at} ${l.line}`).join("\n"));
    }
    await producer.stop();
    await withAdmin(source, (a) => a.deleteTopics([topic])).catch(() => {});
    await withAdmin(target, (a) => a.deleteTopics([topic])).catch(() => {});
  }
}

const rounds: Round[] = [];
const failures: string[] = [];
const t0 = Date.now();
try {
  for (const kind of KINDS) {
    for (let n = 0; n < ROUNDS; n++) {
      try {
        rounds.push(await round(kind, n));
      } catch (err) {
        failures.push(`${kind} #${n + 1}: ${(err as Error).message.split("\n")[0]}`);
        console.error(`${kind} #${n + 1} failed: ${(err as Error).stack}`);
      }
    }
  }
} finally {
  for (const p of klinks) p.kill("SIGKILL");
  await stopAllTools();
  if (started) Bun.spawnSync(["npx", "bun", "test/harness/cli.ts", "down"], { stdout: "inherit", stderr: "inherit" });
}

const sorted = (xs: number[]) => xs.filter(Number.isFinite).sort((a, b) => a - b);
const p50 = (xs: number[]) => sorted(xs)[Math.floor(sorted(xs).length / 2)];
const max = (xs: number[]) => sorted(xs).at(-1);
const ms = (x: number | undefined | null) => (x === undefined || x === null || !Number.isFinite(x) ? "–" : String(Math.round(x)));
const pair = (xs: number[]) => `${ms(p50(xs))} / ${ms(max(xs))}`;
const summary = KINDS.filter((k) => rounds.some((r) => r.kind === k)).map((kind) => {
  const rs = rounds.filter((r) => r.kind === kind);
  const of = (f: (r: Round) => number | null) => rs.map(f).filter((x): x is number => x !== null);
  return `| ${KIND_LABEL[kind]} | ${rs.length} | ${pair(of((r) => r.handoffMs))} | ${pair(of((r) => r.baselineMs))} | ${pair(of((r) => r.klinkReleasedMs))} | ${pair(of((r) => r.klinkReportedMs))} | ${rs.reduce((n, r) => n + r.readWhileFenced, 0)} |`;
});
const perRound = rounds.map((r) => `| ${KIND_LABEL[r.kind]} | ${r.phaseMs} | ${ms(r.handoffMs)} | ${ms(r.baselineMs)} | ${ms(r.klinkReleasedMs)} | ${ms(r.klinkReportedMs)} |`);
const date = new Date().toISOString().slice(0, 10);
const report = [
  `# Group handoff latency, ${date}`,
  "",
  `Source Kafka ${source.version}, target ${target.version}, one node each on loopback, 2 shared vCPUs; ${build}, cutover/auto, exact offsets. Per round a fresh topic of ${PARTITIONS} partitions (a producer writes ${PER_TICK * 20} records/s to the source; klink copies them to the target) and a fresh group: one member reads on the source, one waits on the target, fenced by klink. **Handoff**: from the source member's close()/stop returning to the first record the waiting member consumed. **Baseline**, same group right after, on the target alone: a second member joins, and once both read it leaves; from its close()/stop returning to the first record the remaining member consumed from the partitions it freed. **klink released**: the source member's leaving → klink's "handed off" log line (offsets committed on the target, fence left). **klink reported**: N of its status detail "handed off N ms after its last source member left" (counted from klink's first look at the empty group; it looks every 200 ms). Clients with default settings${HEARTBEAT_ARG ? `, except heartbeat.interval.ms ${HEARTBEAT_MS} ms (what-if)` : " (heartbeat.interval.ms 3 s)"}: a waiting member learns of a rebalance at its next heartbeat, so before each measured stop the group rests ${SETTLE_MS} ms plus (n + 0.5)/${ROUNDS} of ${HEARTBEAT_MS} ms in round n, spreading the stops over the heartbeat period. librdkafka members in this process, stopped with unsubscribe() then close() (close() alone leaves a cooperative-sticky member in the group until its 45 s session timeout), Java ones as their own JVMs (SIGTERM: close() in the tool's shutdown hook); times are this process's clock at the moment a batch reached it. ${ROUNDS} rounds per kind, ${((Date.now() - t0) / 1000).toFixed(0)} s in all.`,
  "",
  "p50 / max, ms:",
  "",
  "| client | rounds | handoff | baseline (rebalance on the target) | klink released | klink reported | batches read while fenced |",
  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ...summary,
  "",
  "Per round, ms:",
  "",
  "| client | pause + | handoff | baseline | klink released | klink reported |",
  "| --- | ---: | ---: | ---: | ---: | ---: |",
  ...perRound,
  "",
  ...(failures.length ? ["Failed rounds:", "", ...failures.map((f) => `- ${f}`), ""] : []),
].join("\n");
console.log(report);
console.error(`klink logs: ${dir}`);
if (rounds.length === 0) {
  console.error("no round finished: nothing written to bench/results/");
  process.exit(1);
}
const out = HEARTBEAT_ARG ? `bench/results/raw/handoff-heartbeat${HEARTBEAT_MS}-${date}.md` : `bench/results/handoff-${date}.md`;
mkdirSync(join(out, ".."), { recursive: true });
writeFileSync(out, report);
console.error(`written to ${out}`);
