/** Small statistics shared by the run and the report. */
import type { CatchUp } from "./measure.ts";

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Records/s from the first record on the target to the last (startup excluded); null when that window is too short to tell. */
export function steadyRate(cu: CatchUp, records: number): number | null {
  const window = cu.doneS - cu.firstRecordS;
  return window >= 0.5 ? (records - cu.recordsAtFirst) / window : null;
}

/**
 * The copy phase (first record on the target → all records): records copied and CPU seconds
 * spent in it, startup excluded; null when the window is too short to tell.
 */
export function copyPhase(cu: CatchUp, records: number): { records: number; cpuSeconds: number } | null {
  const cpuSeconds = cu.usage.cpuSeconds - cu.cpuAtFirst;
  if (cu.doneS - cu.firstRecordS < 0.5 || cpuSeconds <= 0) return null;
  return { records: records - cu.recordsAtFirst, cpuSeconds };
}
