/**
 * The benchmark run: per case, load the dataset once, then replicate it with each tool, `reps`
 * times in rotating order, each time into a freshly created target topic; then the latency run
 * of each tool at half MirrorMaker 2's rate; then the micro benchmarks; then the report.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { cpus, loadavg, release, totalmem } from "node:os";
import { basename, join, resolve } from "node:path";
import { stopAllTools } from "../../test/harness/tools.ts";
import { stateDir } from "../../test/harness/state.ts";
import { createTopics, deleteTopics, partitionRanges, startClusters, stopClusters, withAdmin, type Clusters } from "./clusters.ts";
import { KEY_BYTES, loadRecords } from "./dataset.ts";
import { checkFidelity, type Fidelity } from "./fidelity.ts";
import { measureLatency, type Latency } from "./latency.ts";

/**
 * Before the first latency run, load goes through freshly started brokers for this long: their
 * JVMs are still compiling (JIT) and use about twice the CPU per request, and on 2 cores the tool
 * measured first paid for it (p99 100-270 ms at 20,000 records/s where it has 12-15 ms on warm
 * brokers, the raw pipe measured after it 11 ms; bench/README.md "Latency").
 */
const BROKER_WARMUP_S = 30;
let brokersWarm = false;
import { recordsOnTarget, watchCatchUp, type CatchUp } from "./measure.ts";
import { parseOptions, type BenchOptions, type Case } from "./options.ts";
import { median, steadyRate } from "./stats.ts";
import { renderMarkdown, renderSvg, type MicroResult } from "./report.ts";
import { librdkafkaVersion, type Admin } from "../../src/rdkafka/index.ts";
import { KLINK, MM2_JVM, MM2_VERSION, TOOLS, isMirrorMakerTopic, mm2Properties, startReplicator, type Tool } from "./tools.ts";

export interface RunResult {
  tool: Tool;
  rep: number;
  /** 1-based position in this repetition's order */
  position: number;
  catchUp: CatchUp;
  exitCode: number;
  fidelity?: Fidelity;
}

export interface CaseResult {
  kase: Case;
  /** records replicated (after the start was trimmed) and their key + value bytes */
  records: number;
  bytes: number;
  loaded: number;
  loadS: number;
  trimmedPerPartition: number;
  groupId: string;
  runs: RunResult[];
  latencyRate: number | null;
  latency: Partial<Record<Tool, Latency | { error: string }>>;
  errors: string[];
}

export interface BenchResults {
  date: string;
  startedAt: string;
  durationS: number;
  options: BenchOptions;
  machine: { cpus: number; memGiB: number; kernel: string; load: string };
  versions: { source: string; target: string; mm2: string; librdkafka: string; bun: string; java: string; klink: string };
  mm2Config: string;
  /** MirrorMaker 2's JVM options (runs before 2026-12-07 used -Xms256m -Xmx1g and did not record them). */
  mm2Jvm?: string;
  cases: CaseResult[];
  micro: MicroResult[] | null;
}

const REPO = resolve(import.meta.dir, "../..");
const TRIM = 0.01; // share of each partition deleted from the start, as retention would

export async function main(argv: string[]): Promise<number> {
  const render = argv.indexOf("--render");
  if (render >= 0) return renderAgain(argv[render + 1]);
  let o: BenchOptions;
  try {
    o = parseOptions(argv);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const t0 = Date.now();
  const log = (s: string) => console.error(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${s}`);
  if (!existsSync(KLINK)) {
    log("dist/klink missing: building it (bash scripts/build.sh)");
    const b = Bun.spawnSync(["bash", "scripts/build.sh"], { cwd: REPO, stdout: "inherit", stderr: "inherit" });
    if (b.exitCode !== 0) return 1;
  }
  // run a snapshot of dist/klink: a rebuild during the run must not mix two builds in one report
  const klinkBuild = snapshotKlink();
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    log("interrupted: stopping replicators and clusters");
    void stopAllTools().finally(() => (o.keepClusters ? Promise.resolve() : stopClusters())).finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  let code = 0;
  try {
    const c = await startClusters(log);
    // a kept cluster may hold an earlier run's topics
    for (const cluster of [c.source, c.target]) await deleteTopics(cluster, (n) => n.startsWith("bench-") || isMirrorMakerTopic(n));
    const results: BenchResults = {
      date: new Date().toISOString().slice(0, 10),
      startedAt: new Date(t0).toISOString(),
      durationS: 0,
      options: o,
      machine: machine(),
      versions: { ...versions(c), klink: klinkBuild },
      mm2Jvm: MM2_JVM.join(" "),
      mm2Config: mm2Properties(c, { topics: ["bench-<case>"], partitions: o.partitions, compression: "none", untilCaughtUp: false, mm2Tasks: o.mm2Tasks }, "mm2-bench-<random, per run>")
        .replace("compression.type = none", "compression.type = <none | lz4, as the case>"),
      cases: [],
      micro: null,
    };
    for (const [i, kase] of o.cases.entries()) results.cases.push(await runCase(c, kase, i, o, log));
    if (o.micro) results.micro = runMicro(log);
    results.durationS = (Date.now() - t0) / 1000;
    // only a full comparison of klink as shipped goes to bench/results/; smoke and what-if runs to raw/
    const whatIf = Object.keys(o.sourceLibrdkafka).length > 0;
    const partial = o.tools.length < TOOLS.length;
    const official = !o.quick && !whatIf && !partial;
    const dir = join(REPO, "bench/results", official ? "" : "raw");
    const rawDir = join(REPO, "bench/results/raw");
    mkdirSync(rawDir, { recursive: true });
    const name = `${results.date}${o.quick ? "-quick" : ""}${whatIf ? "-whatif" : ""}${partial ? `-${o.tools.join("-")}` : ""}`;
    writeFileSync(join(rawDir, `${name}.json`), JSON.stringify(results, null, 2) + "\n");
    console.log(writeReport(results, dir, name));
    log(`written: ${join(dir, `${name}.md`)}, ${join(dir, `${name}.svg`)}, ${join(rawDir, `${name}.json`)}`);
    if (results.cases.some((r) => r.errors.length)) code = 1;
  } catch (err) {
    log(`failed: ${(err as Error).stack ?? err}`);
    code = 1;
  } finally {
    await stopAllTools();
    if (!o.keepClusters && !interrupted) {
      log("stopping the benchmark clusters");
      await stopClusters();
    }
  }
  return code;
}

function writeReport(results: BenchResults, dir: string, name: string): string {
  const md = renderMarkdown(results, `${name}.svg`);
  writeFileSync(join(dir, `${name}.md`), md);
  writeFileSync(join(dir, `${name}.svg`), renderSvg(results));
  return md;
}

/** --render RAW.json: the Markdown and SVG again from a run's raw results (after a change to the report's layout). */
function renderAgain(file: string | undefined): number {
  if (!file || !existsSync(file)) {
    console.error(`--render needs a results file (bench/results/raw/<date>.json); got ${file ?? "nothing"}`);
    return 2;
  }
  const results = JSON.parse(readFileSync(file, "utf8")) as BenchResults;
  const name = basename(file, ".json");
  const o = results.options;
  const official = !o.quick && !Object.keys(o.sourceLibrdkafka ?? {}).length && (o.tools?.length ?? TOOLS.length) === TOOLS.length;
  const dir = join(REPO, "bench/results", official ? "" : "raw");
  writeReport(results, dir, name);
  console.error(`written: ${join(dir, `${name}.md`)}, ${join(dir, `${name}.svg`)}`);
  return 0;
}

async function runCase(c: Clusters, kase: Case, index: number, o: BenchOptions, log: (s: string) => void): Promise<CaseResult> {
  const P = o.partitions;
  const topic = `bench-${kase.id}`;
  const recordBytes = kase.valueBytes + KEY_BYTES;
  const loaded = Math.ceil((o.mb * 1e6) / recordBytes / P) * P;
  const perPartition = loaded / P;
  log(`case ${kase.id}: loading ${loaded} records (${((loaded * recordBytes) / 1e6).toFixed(0)} MB) into ${topic}, ${P} partitions, compression ${kase.compression}`);
  await deleteTopics(c.source, (n) => n === topic);
  await createTopics(c.source, [{ name: topic, partitions: P }]);
  const loadStart = performance.now();
  await loadRecords(c.source, topic, { count: loaded, partitions: P, valueBytes: kase.valueBytes, compression: kase.compression });
  const loadS = (performance.now() - loadStart) / 1000;
  const before = await partitionRanges(c.source, topic, P);
  if (before.some((r) => r.low !== 0 || r.high !== perPartition)) throw new Error(`${topic}: unexpected source offsets after loading: ${JSON.stringify(before)}`);

  // a retention-trimmed start: copying tools that cannot keep offsets shift every record
  const trimmed = Math.max(1, Math.ceil(perPartition * TRIM));
  await withAdmin(c.source, (a) => a.deleteRecords(before.map((_, partition) => ({ topic, partition, offset: trimmed }))));
  const ranges = await partitionRanges(c.source, topic, P);
  const sourceLow = ranges.map((r) => r.low);
  const expected = ranges.map((r) => r.high - r.low);
  const records = expected.reduce((a, b) => a + b, 0);
  const bytes = records * recordBytes;
  // a consumer group that has read about half of each partition on the source
  const groupId = `bench-group-${kase.id}`;
  const groupAt = ranges.map((r, p) => Math.min(r.high - 1, r.low + Math.floor((r.high - r.low) / 2) + 7 * p));
  await withAdmin(c.source, (a) => a.alterConsumerGroupOffsets(groupId, groupAt.map((offset, partition) => ({ topic, partition, offset }))));
  log(`  loaded in ${loadS.toFixed(1)} s (${((loaded * recordBytes) / 1e6 / loadS).toFixed(0)} MB/s); trimmed ${trimmed} records per partition; group ${groupId} committed mid-stream`);

  const result: CaseResult = { kase, records, bytes, loaded, loadS, trimmedPerPartition: trimmed, groupId, runs: [], latencyRate: null, latency: {}, errors: [] };
  for (let rep = 0; rep < o.reps; rep++) {
    const order = o.tools.map((_, i) => o.tools[(i + rep) % o.tools.length]!);
    for (const [i, tool] of order.entries()) {
      try {
        const run = await replicateOnce(c, { tool, rep, position: i + 1, topic, kase, o, sourceLow, expected, groupId, groupAt, loaded, log });
        result.runs.push(run);
        const mb = bytes / 1e6;
        log(`  rep ${rep + 1} ${tool.padEnd(5)}: ${(records / run.catchUp.doneS).toFixed(0)} rec/s, ${(mb / run.catchUp.doneS).toFixed(1)} MB/s from start ` +
          `(first record after ${run.catchUp.firstRecordS.toFixed(1)} s), CPU ${run.catchUp.usage.cpuSeconds.toFixed(1)} s = ${(run.catchUp.usage.cpuSeconds / (bytes / 1e9)).toFixed(1)} s/GB, ` +
          `peak RSS ${(run.catchUp.usage.peakRssBytes / 2 ** 20).toFixed(0)} MiB` +
          (run.fidelity ? `; ${run.fidelity.atOtherOffset} at another offset, ${run.fidelity.duplicates} dup, ${run.fidelity.missing} missing` +
            (run.fidelity.group ? `, group: ${run.fidelity.group.redelivered} re-delivered, ${run.fidelity.group.skipped} skipped` : ", group: no offsets") : ""));
      } catch (err) {
        const msg = `rep ${rep + 1} ${tool}: ${(err as Error).message}`;
        log(`  FAILED ${msg}`);
        result.errors.push(msg.slice(0, 4000));
        await stopAllTools();
      }
    }
  }

  if (o.latency) {
    const mm2 = result.runs.filter((r) => r.tool === "mm2").map((r) => steadyRate(r.catchUp, records)).filter((x): x is number => x !== null);
    const any = result.runs.map((r) => steadyRate(r.catchUp, records)).filter((x): x is number => x !== null);
    const max = mm2.length ? median(mm2) : any.length ? Math.min(...any) : null;
    if (max || o.latencyRate) {
      result.latencyRate = o.latencyRate ?? Math.round(max! / 2);
      const why = o.latencyRate ? "set by --latency-rate" : `half of ${mm2.length ? "MirrorMaker 2's" : "the slowest tool's"} steady rate`;
      log(`  latency at ${result.latencyRate} records/s (${why}), ${o.latencyWarmupS} s warm-up + ${o.latencyMeasureS} s`);
      if (!brokersWarm) {
        brokersWarm = true;
        const seconds = o.quick ? 8 : BROKER_WARMUP_S;
        log(`  warming the brokers up: ${seconds} s of load through the raw pipe, not counted`);
        await measureLatency(c, { tool: "pipe", kase, partitions: P, rate: result.latencyRate, warmupS: 0, measureS: seconds, mm2Tasks: o.mm2Tasks, sourceLibrdkafka: {}, log: () => {} }).catch((err) =>
          log(`  warm-up failed (the first tool's latency may be high): ${(err as Error).message.split("\n")[0]}`),
        );
      }
      // the method stamps both topics with LogAppendTime, and the fast lane leaves such batches to the exact lane (docs/fast-lane.md, "Timestamps")
      const timed = o.tools.filter((t) => t !== "klink-fast" && t !== "lane");
      const order = timed.map((_, i) => timed[(i + index) % timed.length]!);
      for (const tool of order) {
        try {
          result.latency[tool] = await measureLatency(c, { tool, kase, partitions: P, rate: result.latencyRate, warmupS: o.latencyWarmupS, measureS: o.latencyMeasureS, mm2Tasks: o.mm2Tasks, sourceLibrdkafka: o.sourceLibrdkafka, log });
        } catch (err) {
          const msg = `latency ${tool}: ${(err as Error).message}`;
          log(`  FAILED ${msg}`);
          result.latency[tool] = { error: msg.slice(0, 2000) };
          result.errors.push(msg.slice(0, 4000));
          await stopAllTools();
        }
      }
    }
  }
  await deleteTopics(c.source, (n) => n === topic);
  await deleteTopics(c.target, (n) => n === topic);
  return result;
}

interface Once {
  tool: Tool;
  rep: number;
  position: number;
  topic: string;
  kase: Case;
  o: BenchOptions;
  sourceLow: number[];
  expected: number[];
  groupId: string;
  groupAt: number[];
  loaded: number;
  log: (s: string) => void;
}

async function replicateOnce(c: Clusters, x: Once): Promise<RunResult> {
  const P = x.o.partitions;
  await deleteTopics(c.target, (n) => n === x.topic);
  await createTopics(c.target, [{ name: x.topic, partitions: P }]);
  return withAdmin(c.target, async (admin) => {
    // a first poll before the clock starts: connects the admin client and checks the topic is empty
    const base = x.tool.startsWith("klink") ? x.sourceLow : x.sourceLow.map(() => 0);
    const before = await recordsOnTarget(admin, { topic: x.topic, expected: x.expected, base: x.sourceLow.map(() => 0) });
    if (before.some((n) => n > 0)) throw new Error(`target topic ${x.topic} is not empty before the run: ${before.join(", ")}`);
    const r = await startReplicator(x.tool, c, { topics: [x.topic], partitions: P, compression: x.kase.compression, untilCaughtUp: true, mm2Tasks: x.o.mm2Tasks, sourceLibrdkafka: x.o.sourceLibrdkafka, sourceLow: x.sourceLow });
    try {
      const catchUp = await watchCatchUp(r, admin, { topic: x.topic, expected: x.expected, base }, r.startedAt, 20 * 60_000);
      let translated: Map<number, number> | undefined;
      const measureFidelity = x.rep === 0;
      if (measureFidelity) {
        if (x.tool === "mm2") translated = await mirrorMakerGroupOffsets(admin, x.groupId, x.topic, P, x.o.quick ? 30_000 : 60_000);
        else translated = new Map(x.groupAt.map((offset, p) => [p, offset])); // klink: exact offsets; pipe and lane: copied as is
      }
      let exitCode: number;
      if (x.tool.startsWith("klink")) {
        const timer = setTimeout(() => void r.stop(), 60_000); // --until-caught-up should end it by itself
        exitCode = await r.exited;
        clearTimeout(timer);
        if (exitCode !== 0) throw new Error(`klink exited with ${exitCode}\n${r.logTail()}`);
      } else {
        await r.stop();
        exitCode = await r.exited;
      }
      const fidelity = measureFidelity
        ? await checkFidelity(c.target, x.topic, { partitions: P, firstSeq: 0, totalSeq: x.loaded, sourceLow: x.sourceLow, groupAt: x.groupAt, translated })
        : undefined;
      return { tool: x.tool, rep: x.rep, position: x.position, catchUp, exitCode, fidelity };
    } finally {
      await r.stop();
    }
  });
}

/** The offsets MirrorMaker 2's checkpoints wrote to the target group, once every partition has one (or after `timeoutMs`: those there are). */
async function mirrorMakerGroupOffsets(admin: Admin, groupId: string, topic: string, partitions: number, timeoutMs: number): Promise<Map<number, number>> {
  const deadline = Date.now() + timeoutMs;
  let found = new Map<number, number>();
  for (;;) {
    try {
      const offsets = await admin.listConsumerGroupOffsets(groupId);
      found = new Map(offsets.filter((o) => o.topic === topic && o.offset >= 0).map((o) => [o.partition, o.offset]));
    } catch {
      // the group does not exist on the target yet
    }
    if (found.size >= partitions || Date.now() > deadline) return found;
    await Bun.sleep(500);
  }
}

function runMicro(log: (s: string) => void): MicroResult[] | null {
  log("micro benchmarks (bench/micro/run.ts)");
  const r = Bun.spawnSync([process.execPath, join(REPO, "bench/micro/run.ts"), "--json"], { cwd: REPO, stdout: "pipe", stderr: "inherit" });
  if (r.exitCode !== 0) {
    log(`micro benchmarks failed (exit ${r.exitCode})`);
    return null;
  }
  return JSON.parse(r.stdout.toString()) as MicroResult[];
}

function machine(): BenchResults["machine"] {
  return { cpus: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), load: loadavg().map((l) => l.toFixed(2)).join(" ") };
}

/**
 * Copies dist/klink into the benchmark's state dir and points the runs at the copy (unless
 * KLINK_BENCH_KLINK_CMD already names another build). Returns what it runs: version and sha256.
 */
function snapshotKlink(): string {
  if (process.env.KLINK_BENCH_KLINK_CMD) return `KLINK_BENCH_KLINK_CMD=${process.env.KLINK_BENCH_KLINK_CMD}`;
  const bytes = readFileSync(KLINK);
  const sha = createHash("sha256").update(bytes).digest("hex").slice(0, 12);
  const copy = join(stateDir, `klink-${sha}`);
  if (!existsSync(copy)) {
    mkdirSync(stateDir, { recursive: true });
    copyFileSync(KLINK, copy);
    chmodSync(copy, 0o755);
  }
  process.env.KLINK_BENCH_KLINK_CMD = JSON.stringify([copy]);
  const version = Bun.spawnSync([copy, "--version"]).stdout.toString().trim();
  return `${version}, dist/klink sha256 ${sha}…`;
}

function versions(c: Clusters): Omit<BenchResults["versions"], "klink"> {
  const java = Bun.spawnSync(["java", "-version"]).stderr.toString().split("\n")[0] ?? "";
  return { source: c.source.version, target: c.target.version, mm2: MM2_VERSION, librdkafka: librdkafkaVersion(), bun: Bun.version, java };
}
