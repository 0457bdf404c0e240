/**
 * The nemesis's short run: four fixed seeds that together cover every workload and every kind of
 * fault (the first test checks that they still do), each on the nemesis's own clusters, judged
 * from the clusters alone. A failing seed replays with `npm run nemesis -- --seed N`; the long run
 * is `npm run nemesis -- --seeds 50` (docs/development.md, "The nemesis").
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import type { Clusters } from "../link/dual-write-workload.ts";
import { startNemesisClusters, stopNemesisClusters } from "./clusters.ts";
import { FAULT_KINDS, WORKLOADS, planFor } from "./plan.ts";
import { runSeed } from "./run-seed.ts";
import { formatViolations } from "./violations.ts";

// plain, compacted (kafka storage), transactional (second instance on sqlite storage), dual write
const SEEDS = [116, 279, 252, 23];

let clusters: Clusters | null = null;
const out = mkdtempSync(`${tmpdir()}/klink-nemesis-`);

beforeAll(async () => {
  clusters = await startNemesisClusters(1);
}, 300_000);

afterAll(async () => {
  if (clusters) await stopNemesisClusters(clusters);
}, 120_000);

test("the fixed seeds cover every workload, every fault kind, both storages, a second instance on sqlite, and link.fastLane on and off", () => {
  const plans = SEEDS.map(planFor);
  expect(new Set(plans.map((p) => p.workload))).toEqual(new Set(WORKLOADS));
  expect(new Set(plans.flatMap((p) => p.faults.map((f) => f.kind)))).toEqual(new Set(FAULT_KINDS));
  expect(new Set(plans.map((p) => p.storage))).toEqual(new Set(["sqlite", "kafka"] as const));
  expect(plans.some((p) => p.storage === "sqlite" && p.faults.some((f) => f.kind === "second-instance"))).toBe(true);
  expect(new Set(plans.map((p) => p.fastLane))).toEqual(new Set([true, false]));
});

for (const seed of SEEDS) {
  const plan = planFor(seed);
  test(`seed ${seed}: ${plan.workload}, ${plan.faults.map((f) => f.kind).join(", ")}: no violation`, async () => {
    const r = await runSeed(seed, clusters!, out, (line) => console.error(line));
    if (r.violations.length) throw new Error([`seed ${seed} (${r.dir}; replay: npm run nemesis -- --seed ${seed}):`, ...formatViolations(r.violations)].join("\n"));
  }, 900_000);
}
