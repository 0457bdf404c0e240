/**
 * What the standalone benchmarks (backlog, binding, router-latency, handoff-latency) share: the
 * test harness's clusters, started when they are not running (and then stopped by the benchmark
 * at the end), and a snapshot of dist/klink so that a rebuild during a run cannot mix two builds
 * in one report.
 */
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { readClusters } from "../test/harness/state.ts";
import { isAnswering, type KafkaCluster } from "../test/harness/cluster.ts";

/** The source and target clusters of KLINK_TEST_DIR; `started` says the benchmark started them. */
export async function testClusters(): Promise<{ source: KafkaCluster; target: KafkaCluster; started: boolean }> {
  const known = readClusters();
  if (known.source && known.target && (await isAnswering(known.source)) && (await isAnswering(known.target))) return { source: known.source, target: known.target, started: false };
  if (Bun.spawnSync(["npx", "bun", "test/harness/cli.ts", "up"], { stdout: "inherit", stderr: "inherit" }).exitCode !== 0) throw new Error("could not start the test clusters");
  const all = readClusters();
  return { source: all.source!, target: all.target!, started: true };
}

/** The klink to run: a copy of dist/klink in `dir`, or KLINK_BENCH_KLINK_CMD; `build` names it for the report. */
export function klinkSnapshot(dir: string): { argv: string[]; build: string } {
  if (process.env.KLINK_BENCH_KLINK_CMD) return { argv: JSON.parse(process.env.KLINK_BENCH_KLINK_CMD), build: `KLINK_BENCH_KLINK_CMD=${process.env.KLINK_BENCH_KLINK_CMD}` };
  const dist = resolve(import.meta.dir, "../dist/klink");
  const sha = createHash("sha256").update(readFileSync(dist)).digest("hex").slice(0, 12);
  const copy = join(dir, `klink-${sha}`);
  copyFileSync(dist, copy);
  chmodSync(copy, 0o755);
  const version = Bun.spawnSync([copy, "--version"]).stdout.toString().trim();
  return { argv: [copy], build: `${version}, dist/klink sha256 ${sha}…` };
}
