/**
 * Where klink's time goes: replicates one case with klink run from source (`bun src/cli.ts run`)
 * and with the raw pipe, each under Bun's sampling CPU profiler, and writes both profiles as
 * Markdown (bench/results/raw/profile-<case>-<tool>/*.md). Uses the benchmark's clusters.
 *
 *   npx bun bench/profile.ts [--case 1k-none] [--mb 400] [--tools klink,pipe,lane] [--keep-clusters] [--cpu-only]
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

process.env.KLINK_TEST_DIR = resolve(process.env.KLINK_BENCH_DIR ?? resolve(import.meta.dir, "../.klink-bench"));
const { startClusters, stopClusters, createTopics, deleteTopics, partitionRanges } = await import("./replicate/clusters.ts");
const { loadRecords, KEY_BYTES } = await import("./replicate/dataset.ts");
const { ALL_CASES } = await import("./replicate/options.ts");
const { klinkYaml } = await import("./replicate/tools.ts");
const { recordsOnTarget } = await import("./replicate/measure.ts");
const { withAdmin } = await import("./replicate/clusters.ts");

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const kase = ALL_CASES.find((c) => c.id === arg("case", "1k-none"));
if (!kase) throw new Error(`unknown case; use one of ${ALL_CASES.map((c) => c.id).join(", ")}`);
const mb = Number(arg("mb", "400"));
const keep = process.argv.includes("--keep-clusters");
/** No profiler: only the process's CPU time (user, system), for a quick before/after. */
const cpuOnly = process.argv.includes("--cpu-only");
const REPO = resolve(import.meta.dir, "..");
const P = 12;
const log = (s: string) => console.error(`[profile] ${s}`);

const c = await startClusters(log);
try {
  const topic = `bench-profile-${kase.id}`;
  await deleteTopics(c.source, (n) => n === topic);
  await createTopics(c.source, [{ name: topic, partitions: P }]);
  const count = Math.ceil((mb * 1e6) / (kase.valueBytes + KEY_BYTES) / P) * P;
  await loadRecords(c.source, topic, { count, partitions: P, valueBytes: kase.valueBytes, compression: kase.compression });
  log(`loaded ${count} records into ${topic}`);
  const ranges = await partitionRanges(c.source, topic, P);
  const job = { topics: [topic], partitions: P, compression: kase.compression, untilCaughtUp: true, mm2Tasks: 4 };

  const tools = arg("tools", "klink,pipe").split(",");
  for (const tool of tools) {
    await deleteTopics(c.target, (n) => n === topic);
    await createTopics(c.target, [{ name: topic, partitions: P }]);
    const dir = join(REPO, "bench/results/raw", `profile-${kase.id}-${tool}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const prof = cpuOnly ? [process.execPath] : [process.execPath, "--cpu-prof-md", `--cpu-prof-dir=${dir}`];
    let argv: string[];
    if (tool === "klink") {
      const yaml = join(dir, "migration.yaml");
      writeFileSync(yaml, klinkYaml(c, job, 20000 + Math.floor(Math.random() * 10000)));
      argv = [...prof, join(REPO, "src/cli.ts"), "run", yaml, "--until-caught-up"];
    } else if (tool === "lane") {
      const options = { source: c.source.bootstrap, target: c.target.bootstrap, topic, partitions: P, sourceLow: ranges.map((r) => r.low) };
      argv = [...prof, join(REPO, "bench/replicate/lane.ts"), JSON.stringify(options)];
    } else {
      const options = { source: c.source.bootstrap, target: c.target.bootstrap, topic, partitions: P, compression: kase.compression };
      argv = [...prof, join(REPO, "bench/replicate/pipe.ts"), JSON.stringify(options)];
    }
    const t = performance.now();
    const proc = Bun.spawn(argv, { stdout: "ignore", stderr: "inherit" });
    await withAdmin(c.target, async (a) => {
      const expected = ranges.map((r) => r.high - r.low);
      for (;;) {
        const have = await recordsOnTarget(a, { topic, expected, base: ranges.map(() => 0) });
        if (have.every((n, p) => n >= expected[p]!)) break;
        if (proc.exitCode !== null) throw new Error(`${tool} exited early`);
        await Bun.sleep(100);
      }
    });
    log(`${tool}: copied in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    if (tool !== "klink") {
      const stat = readFileSync(`/proc/${proc.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      log(`${tool}: ${stat[7]} minor page faults so far`);
      proc.kill("SIGTERM");
    }
    await proc.exited;
    const cpu = proc.resourceUsage()?.cpuTime; // µs, the whole process: every thread, and the kernel's work for it
    if (cpu) log(`${tool}: CPU ${(Number(cpu.user) / 1e6).toFixed(2)} s user, ${(Number(cpu.system) / 1e6).toFixed(2)} s system ${cpuOnly ? "" : " (profiling included)"}`);
    if (!cpuOnly) log(`${tool}: profile ${readdirSync(dir).filter((f) => f.endsWith(".md")).map((f) => join(dir, f)).join(", ")}`);
  }
  await deleteTopics(c.source, (n) => n === topic);
  await deleteTopics(c.target, (n) => n === topic);
} finally {
  if (!keep) await stopClusters();
}
