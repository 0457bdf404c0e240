/**
 * One seed of the nemesis: its plan (workload, storage, faults), the workload written before and
 * while klink copies, the faults injected at their moments, klink's catch-up run, and the
 * verdict of the oracle. Everything of the seed (migration.yaml, klink's state and every klink
 * process's log, report.txt) is kept in its directory.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stopAllTools } from "../harness/tools.ts";
import type { Clusters } from "../link/dual-write-workload.ts";
import { ensureUp } from "./clusters.ts";
import { CompactedWorkload } from "./compacted.ts";
import { DualWriteNemesisWorkload } from "./dual-write.ts";
import { inject, type InjectedFault } from "./faults.ts";
import { KlinkSupervisor } from "./klink-supervisor.ts";
import { writeMigration } from "./migration.ts";
import { describePlan, planFor, type Plan, type WorkloadName } from "./plan.ts";
import { PlainWorkload } from "./plain.ts";
import { Random } from "./random.ts";
import { TransactionalWorkload } from "./transactional.ts";
import { formatViolations, type Violation } from "./violations.ts";
import type { Workload, WorkloadContext } from "./workload.ts";

/** How long `klink run --until-caught-up` may take once the writers stopped. */
const CATCH_UP_TIMEOUT_MS = 240_000;

export interface SeedResult {
  plan: Plan;
  faults: InjectedFault[];
  violations: Violation[];
  seconds: number;
  dir: string;
}

const WORKLOAD: Record<WorkloadName, new (ctx: WorkloadContext) => Workload> = {
  plain: PlainWorkload,
  compacted: CompactedWorkload,
  transactional: TransactionalWorkload,
  "dual-write": DualWriteNemesisWorkload,
};

export async function runSeed(seed: number, clusters: Clusters, baseDir: string, print: (line: string) => void = console.log): Promise<SeedResult> {
  const plan = planFor(seed);
  const dir = join(baseDir, `seed-${seed}`);
  mkdirSync(dir, { recursive: true });
  const t0 = Date.now();
  let liveStart = 0;
  const lines: string[] = [];
  const log = (line: string) => {
    const stamp = liveStart ? `live +${((Date.now() - liveStart) / 1000).toFixed(1)}s` : `+${((Date.now() - t0) / 1000).toFixed(1)}s`;
    const l = `[seed ${seed} ${stamp}] ${line}`;
    lines.push(l);
    print(l);
  };
  const rng = new Random(seed);
  const workload = new WORKLOAD[plan.workload]({ clusters, partitions: plan.partitions, rng: rng.fork("workload"), log });
  const faults: InjectedFault[] = [];
  const violations: Violation[] = [];
  let klink: KlinkSupervisor | null = null;
  log(`${describePlan(plan)}; topics ${workload.topics.join(", ")}; files in ${dir}`);
  try {
    await ensureUp(clusters, log);
    await workload.prepare();
    const file = await writeMigration(dir, { clusters, topics: workload.topics, linkName: `nemesis-${seed}-${workload.topics[0]!.slice(-8)}`, offsets: workload.offsets, storage: plan.storage, fastLane: plan.fastLane });
    klink = new KlinkSupervisor(file, log);
    klink.startMain();
    await workload.startLive();
    liveStart = Date.now();
    log("live: writers write while klink copies; faults follow the schedule");
    const ctx = { klink, clusters, storage: plan.storage, rng: rng.fork("faults"), elapsed: () => Date.now() - liveStart, log };
    for (const f of plan.faults) {
      const wait = f.atMs - ctx.elapsed();
      if (wait > 0) await Bun.sleep(wait);
      faults.push(await inject(f, ctx));
    }
    const rest = plan.liveMs - ctx.elapsed();
    if (rest > 0) await Bun.sleep(rest);
    klink.ensureRunning();
    await workload.stopLive();
    log("writers stopped; stopping klink, then `klink run --until-caught-up`");
    liveStart = 0;
    await klink.stopMain();
    await klink.catchUp(CATCH_UP_TIMEOUT_MS);
    log("reading both clusters");
    violations.push(...(await workload.check()));
  } catch (err) {
    violations.push({ kind: "nemesis error", where: `seed ${seed}`, detail: (err as Error).stack ?? String(err) });
  } finally {
    await klink?.killAll();
    await workload.kill().catch(() => {});
    await stopAllTools();
  }
  // what klink's processes did wrong, judged from their exits and output, comes first
  if (klink) violations.unshift(...klink.findings());
  const seconds = (Date.now() - t0) / 1000;
  const verdict = violations.length ? formatViolations(violations) : ["no violation"];
  for (const l of verdict) log(l);
  writeFileSync(join(dir, "report.txt"), [...lines, ""].join("\n"));
  return { plan, faults, violations, seconds, dir };
}
