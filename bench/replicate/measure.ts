/**
 * Catch-up measurement: from the moment the replicator is started until the target holds every
 * record, polling the target's partition offsets every 100 ms and the replicator's /proc entry at
 * the same moments.
 */
import type { Admin } from "../../src/rdkafka/index.ts";
import { ProcessWatch, type ProcSample } from "./proc.ts";
import type { Replicator } from "./tools.ts";

export interface CatchUp {
  /** seconds from start to the first record seen on the target */
  firstRecordS: number;
  /** seconds from start until the target held every record */
  doneS: number;
  /** records on the target at the first poll that saw any (for the steady rate) */
  recordsAtFirst: number;
  /** the replicator's CPU seconds at that poll (for the copy phase's CPU) */
  cpuAtFirst: number;
  usage: ProcSample;
  /** the slowest poll of the target's offsets, seconds (a slow poll blurs the times above) */
  slowestPollS: number;
  /** CPU seconds by thread role (see proc.ts), as of the last /proc sample */
  threads: Record<string, number>;
  /** "proc": sampled from /proc when done; "rusage": the process had already exited (includes its shutdown) */
  usageFrom: "proc" | "rusage";
}

export interface TargetPartitions {
  topic: string;
  /** records expected per partition */
  expected: number[];
  /**
   * Where counting starts per partition: the source's log start offset for an exact-offset tool
   * (its target log starts there too), 0 for the others (they write from target offset 0).
   */
  base: number[];
}

export async function recordsOnTarget(admin: Admin, t: TargetPartitions): Promise<number[]> {
  const marks = await admin.watermarks(t.expected.map((_, partition) => ({ topic: t.topic, partition })));
  const out = t.expected.map(() => 0);
  for (const m of marks) out[m.partition] = Math.max(0, m.high - t.base[m.partition]!);
  return out;
}

/**
 * Waits until every partition holds its expected records. `startedAt` is performance.now() just
 * before the replicator was spawned. `targetAdmin` must have answered a poll already (its first
 * request fetches metadata and can take seconds, which would blur the first-record time).
 */
export async function watchCatchUp(r: Replicator, targetAdmin: Admin, t: TargetPartitions, startedAt: number, timeoutMs: number): Promise<CatchUp> {
  const watch = new ProcessWatch(r.pid);
  let first: { at: number; records: number; cpu: number } | null = null;
  const total = t.expected.reduce((a, b) => a + b, 0);
  let slowestPollS = 0;
  for (;;) {
    const alive = watch.sample();
    const asked = performance.now();
    const counts = await recordsOnTarget(targetAdmin, t);
    const now = performance.now();
    slowestPollS = Math.max(slowestPollS, (now - asked) / 1000);
    const sum = counts.reduce((a, b) => a + b, 0);
    if (sum > 0 && !first) first = { at: now, records: sum, cpu: watch.last.cpuSeconds };
    if (counts.every((n, p) => n >= t.expected[p]!)) {
      const stillAlive = alive && watch.sample();
      const final = stillAlive ? null : r.finalUsage();
      return {
        firstRecordS: (first!.at - startedAt) / 1000,
        doneS: (now - startedAt) / 1000,
        recordsAtFirst: first!.records,
        cpuAtFirst: first!.cpu,
        usage: final ? { cpuSeconds: final.cpuSeconds, peakRssBytes: Math.max(final.peakRssBytes, watch.last.peakRssBytes) } : watch.last,
        usageFrom: final ? "rusage" : "proc",
        slowestPollS,
        threads: watch.byRole(),
      };
    }
    if (!alive && !r.running()) {
      const code = await r.exited;
      throw new Error(`${r.tool} exited (code ${code}) with ${sum} of ${total} records on the target\n${r.logTail()}`);
    }
    if (now - startedAt > timeoutMs) throw new Error(`${r.tool}: ${sum} of ${total} records on the target after ${timeoutMs / 1000} s\n${r.logTail()}`);
    await Bun.sleep(100);
  }
}
