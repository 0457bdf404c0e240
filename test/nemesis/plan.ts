/**
 * A seed's plan: the workload, klink's state storage and the fault schedule, drawn from the seed
 * alone (nothing else), so `--seed N` replays the same choices and moments. Kafka's and klink's
 * own timing still differ between runs: a replay repeats the schedule, not every interleaving.
 */
import { Random } from "./random.ts";

export const WORKLOADS = ["plain", "compacted", "transactional", "dual-write"] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export const FAULT_KINDS = ["klink-kill9", "second-instance", "klink-sigstop", "source-broker-kill9", "target-broker-kill9"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface PlannedFault {
  kind: FaultKind;
  /** when, in ms after the live phase began */
  atMs: number;
  /** how long the fault lasts: klink down before its restart, the second instance's life, the stop, the broker down */
  holdMs: number;
}

export interface Plan {
  seed: number;
  workload: WorkloadName;
  storage: "sqlite" | "kafka";
  /** link.fastLane: plain partitions copied as record batches (drawn on its own fork: the other choices stay those of older runs) */
  fastLane: boolean;
  partitions: number;
  /** how long writers write while klink copies (faults happen in this window) */
  liveMs: number;
  faults: PlannedFault[];
}

const HOLD_MS: Record<FaultKind, [number, number]> = {
  "klink-kill9": [200, 3_000],
  "second-instance": [3_000, 12_000],
  "klink-sigstop": [1_000, 15_000],
  "source-broker-kill9": [1_000, 8_000],
  "target-broker-kill9": [1_000, 8_000],
};

export function planFor(seed: number): Plan {
  const rng = new Random(seed).fork("plan");
  const workload = rng.pick(WORKLOADS);
  const storage = rng.chance(0.75) ? "sqlite" : "kafka";
  const partitions = rng.int(2, 4);
  const liveMs = rng.int(30, 50) * 1000;
  const faults: PlannedFault[] = [];
  for (let i = rng.int(2, 4); i > 0; i--) {
    const kind = rng.pick(FAULT_KINDS);
    const [lo, hi] = HOLD_MS[kind];
    faults.push({ kind, atMs: rng.int(2_000, liveMs - 5_000), holdMs: rng.int(lo, hi) });
  }
  faults.sort((a, b) => a.atMs - b.atMs);
  const fastLane = new Random(seed).fork("fast lane").chance(0.5);
  return { seed, workload, storage, fastLane, partitions, liveMs, faults };
}

export function describePlan(p: Plan): string {
  const faults = p.faults.map((f) => `${f.kind} at ${(f.atMs / 1000).toFixed(1)}s for ${(f.holdMs / 1000).toFixed(1)}s`).join(", ");
  return `workload ${p.workload}, ${p.partitions} partitions, storage ${p.storage}${p.fastLane ? ", link.fastLane" : ""}, live ${(p.liveMs / 1000).toFixed(0)}s; faults planned: ${faults}`;
}
