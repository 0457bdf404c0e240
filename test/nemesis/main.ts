/**
 * The nemesis, from the command line (npm run nemesis -- ...):
 *   --seeds N      run N seeds, from --from (default 1): a line per seed, a table at the end
 *   --seed N       replay one seed
 *   --brokers 1|3  nodes per cluster (default 1)
 *   --out DIR      where each seed's files go (default a fresh dir under /tmp)
 * It starts its own source and target clusters and stops them at the end. Exit code 0 when no
 * seed found a violation, 1 otherwise.
 */
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { startNemesisClusters, stopNemesisClusters } from "./clusters.ts";
import { FAULT_KINDS } from "./plan.ts";
import { runSeed, type SeedResult } from "./run-seed.ts";
import { countByKind, isNemesisProblem } from "./violations.ts";

const usage = "usage: npm run nemesis -- (--seeds N [--from S] | --seed N) [--brokers 1|3] [--out DIR]";

function parse(argv: string[]): { seeds: number[]; brokers: 1 | 3; out: string } {
  const opts = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i]!, argv[i + 1]];
    if (!["--seeds", "--seed", "--from", "--brokers", "--out"].includes(k) || v === undefined) throw new Error(`unknown or incomplete option ${k}\n${usage}`);
    opts.set(k, v);
  }
  const int = (k: string, d?: number) => {
    const v = opts.has(k) ? Number(opts.get(k)) : d;
    if (v === undefined || !Number.isInteger(v) || v < 0) throw new Error(`${k} must be a whole number\n${usage}`);
    return v;
  };
  const brokers = int("--brokers", 1);
  if (brokers !== 1 && brokers !== 3) throw new Error(`--brokers must be 1 or 3\n${usage}`);
  const seeds = opts.has("--seed") ? [int("--seed")] : Array.from({ length: int("--seeds", 5) }, (_, i) => int("--from", 1) + i);
  const out = opts.get("--out") ?? mkdtempSync(`${tmpdir()}/klink-nemesis-`);
  mkdirSync(out, { recursive: true });
  return { seeds, brokers, out };
}

function table(results: SeedResult[]): string {
  const lines = ["", "seed  workload       storage  violations  nemesis problems  seconds  faults"];
  const klinks = (r: SeedResult) => r.violations.filter((v) => !isNemesisProblem(v)).length;
  const own = (r: SeedResult) => r.violations.filter(isNemesisProblem).length;
  for (const r of results) {
    const faults = r.faults.map((f) => f.kind).join(",") || "-";
    lines.push(`${String(r.plan.seed).padEnd(6)}${r.plan.workload.padEnd(15)}${r.plan.storage.padEnd(9)}${String(klinks(r)).padStart(10)}  ${String(own(r)).padStart(16)}  ${r.seconds.toFixed(0).padStart(7)}  ${faults}`);
  }
  const failed = results.filter((r) => klinks(r));
  const troubled = results.filter((r) => own(r));
  lines.push("", `seeds run: ${results.length}; seeds with violations: ${failed.length}${failed.length ? ` (${failed.map((r) => r.plan.seed).join(", ")})` : ""}; ` +
    `seeds the nemesis could not run as planned: ${troubled.length}${troubled.length ? ` (${troubled.map((r) => r.plan.seed).join(", ")})` : ""}`);
  const faults = new Map(FAULT_KINDS.map((k) => [k, 0]));
  for (const r of results) for (const f of r.faults) faults.set(f.kind, faults.get(f.kind)! + 1);
  lines.push(`faults injected: ${[...faults].map(([k, n]) => `${k} ${n}`).join(", ")} (${[...faults.values()].reduce((a, b) => a + b, 0)} in all)`);
  const kinds = new Map<string, { count: number; seeds: number[] }>();
  for (const r of results) {
    for (const [k, n] of countByKind(r.violations)) {
      const e = kinds.get(k) ?? { count: 0, seeds: [] };
      e.count += n;
      e.seeds.push(r.plan.seed);
      kinds.set(k, e);
    }
  }
  lines.push(`violations by kind:${kinds.size ? "" : " none"}`);
  for (const [k, e] of [...kinds].sort((a, b) => b[1].seeds.length - a[1].seeds.length)) lines.push(`  ${k}: ${e.count} in ${e.seeds.length} seed(s): ${e.seeds.join(", ")}`);
  return lines.join("\n");
}

const { seeds, brokers, out } = parse(process.argv.slice(2));
console.log(`nemesis: seeds ${seeds.join(", ")}; ${brokers} node(s) per cluster; files in ${out}`);
const clusters = await startNemesisClusters(brokers);
const stop = () => stopNemesisClusters(clusters).finally(() => process.exit(130));
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
const results: SeedResult[] = [];
try {
  for (const seed of seeds) {
    const r = await runSeed(seed, clusters, out);
    results.push(r);
    console.log(`SEED ${seed}: ${r.plan.workload}, ${r.faults.map((f) => `${f.kind}@${f.at.toFixed(1)}s`).join(" ")}: ${r.violations.length ? `${r.violations.length} violation(s): ${[...countByKind(r.violations)].map(([k, n]) => `${k} ×${n}`).join(", ")}` : "ok"} (${r.seconds.toFixed(0)} s, ${r.dir})`);
  }
} finally {
  console.log(table(results));
  await stopNemesisClusters(clusters);
}
process.exit(results.some((r) => r.violations.length) ? 1 : 0);
