/**
 * Where copying a partition starts, and in which offset mode: the one decision `klink plan`
 * reports and `klink run` acts on (docs/offsets.md, "The start"). Pure: the caller reads the facts.
 */
import type { OffsetsSetting, StartPosition } from "../../config/types.ts";
import type { OffsetMode } from "./state.ts";

export interface StartFacts {
  /** The source partition's log start offset and last stable offset. */
  sourceLogStart: number;
  sourceEnd: number;
  /** For a timestamp start: the first offset at or after it (-1: none). */
  timestampOffset?: number;
  /** The target partition's log start and end offsets; absent while the partition does not exist. */
  target?: { logStart: number; end: number };
  /** What klink stored for the partition; absent when it never copied it. */
  stored?: { mode: OffsetMode; sinceOffset: number };
  /** The target's records are the source's at the same offsets (run reads them to know; plan does not). */
  exactCopyOnTarget?: boolean;
  /** klink created the target partition (it stores that first): records there without state are producers'. */
  createdByKlink?: boolean;
}

export interface StartSettings {
  start: StartPosition;
  offsets: OffsetsSetting;
  prefixFillLimit: number;
}

export type StartDecision =
  /** Exact: fill target offsets `from`..`start - 1`, then move the target's log start to `start`. */
  | { action: "align"; start: number; from: number; why: string }
  /** Go on as stored: exact at the target's end offset, or translate at the stored positions. */
  | { action: "resume"; mode: OffsetMode; why: string }
  /** No state, but the target holds an exact copy: continue in exact mode. */
  | { action: "adopt"; why: string }
  /** Producers wrote to the target partition klink created before copying began: translate mode, routing them all to the source. */
  | { action: "dual-write"; from: number; why: string }
  /** Translate mode: copy from source offset `from`, appended after the target's end, with an offset map. */
  | { action: "translate"; from: number; why: string }
  /** Exact offsets are impossible and `offsets: exact` is set. */
  | { action: "refuse"; why: string };

const n = (x: number) => x.toLocaleString("en-US");

/** The first source offset copied, from `link.start`. */
export function startOffset(f: Pick<StartFacts, "sourceLogStart" | "sourceEnd" | "timestampOffset">, start: StartPosition): number {
  if (start.kind === "latest") return f.sourceEnd;
  if (start.kind === "timestamp") return f.timestampOffset === undefined || f.timestampOffset < 0 ? f.sourceEnd : Math.max(f.timestampOffset, f.sourceLogStart);
  return f.sourceLogStart;
}

export function decideStart(f: StartFacts, s: StartSettings): StartDecision {
  const start = startOffset(f, s.start);
  const target = f.target ?? { logStart: 0, end: 0 };
  if (f.stored?.mode === "translate") return { action: "resume", mode: "translate", why: `resumes translate mode (since source offset ${n(f.stored.sinceOffset)})` };
  if (f.stored && target.end > 0) {
    const since = f.stored.sinceOffset;
    // A start alignment a stop interrupted: fillers below the start, no record yet.
    if (target.logStart < since && target.end <= since) return { action: "align", start: since, from: target.end, why: `finishes aligning the start at ${n(since)}` };
    return { action: "resume", mode: "exact", why: `resumes at the target's end offset ${n(target.end)}` };
  }
  const refuseOr = (why: string, from = start): StartDecision =>
    s.offsets === "exact" ? { action: "refuse", why: `${why}: exact offsets are impossible (offsets: exact); set offsets: auto to copy it in translate mode` } : { action: "translate", from, why };
  if (target.end > target.logStart) {
    const held = `the target partition already holds offsets ${n(target.logStart)}..${n(target.end - 1)}`;
    if (f.createdByKlink) {
      const why = `${held}, written by producers after klink created it and before copying began`;
      if (s.offsets === "exact") return { action: "refuse", why: `${why}: exact offsets are impossible (offsets: exact); set offsets: auto to copy it in translate mode (dual write)` };
      return { action: "dual-write", from: start, why: `${why}: dual write, routing them to the source` };
    }
    if (f.exactCopyOnTarget === true && s.offsets !== "translate") return { action: "adopt", why: `${held}, an exact copy of the source (klink's state was lost?): continues in exact mode` };
    if (s.offsets === "translate") return { action: "translate", from: start, why: "offsets: translate" };
    const unknown = f.exactCopyOnTarget === undefined ? " (kept in exact mode if they are an exact copy of the source, which run checks)" : "";
    return refuseOr(`${held} that klink did not write${unknown}`);
  }
  if (s.offsets === "translate") return { action: "translate", from: start, why: "offsets: translate" };
  // An empty target partition: it may already end further on (its records were deleted).
  if (target.end > start) return refuseOr(`the target partition is empty but ends at ${n(target.end)}, past the source start ${n(start)}`);
  const fill = start - target.end;
  if (fill > s.prefixFillLimit) return refuseOr(`aligning the start needs ${n(fill)} filler offsets, more than link.prefixFillLimit (${n(s.prefixFillLimit)})`);
  if (start === 0) return { action: "align", start, from: 0, why: "starts at offset 0" };
  if (fill === 0) return { action: "align", start, from: target.end, why: `the target already ends at ${n(start)}: nothing to fill` };
  return { action: "align", start, from: target.end, why: `fills ${n(fill)} offset${fill === 1 ? "" : "s"}, then moves the target's log start to ${n(start)} (DeleteRecords)` };
}
