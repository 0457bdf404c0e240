/**
 * The decisions of `klink plan`, from facts read off both clusters: no I/O here.
 * The same rules apply when klink runs; plan only says them in advance. How a missing target
 * topic is created is decided in src/link/topic-create.ts, for both.
 */
import type { TopicSettings } from "../config/types.ts";
import type { PartitionPlan, TargetState } from "./types.ts";

const n = (x: number) => x.toLocaleString("en-US");

export interface PartitionFacts {
  partition: number;
  sourceLogStart: number;
  sourceLogEnd: number;
  /** The offset for a timestamp start (-1: no record at or after it). */
  timestampOffset?: number;
  /** Absent when the target topic or partition does not exist. */
  targetLogStart?: number;
  targetLogEnd?: number;
}

export interface PartitionContext {
  settings: TopicSettings;
  /** The topic has lifecycle state in klink's storage: klink wrote the target's data. */
  linkedState: string | null;
  /** Offset mode recorded for this partition by an earlier run, if any. */
  recordedMode: { mode: "exact" | "translate"; sinceOffset: number } | null;
  /** The target topic allows DeleteRecords (cleanup.policy contains delete). */
  targetDeletable: boolean;
}

/** Where copying starts, the target's state, and the offset mode with its reason. */
export function decidePartition(f: PartitionFacts, ctx: PartitionContext): PartitionPlan {
  const { settings } = ctx;
  const start = startOffset(f, settings);
  const base = {
    partition: f.partition,
    sourceLogStart: f.sourceLogStart,
    sourceLogEnd: f.sourceLogEnd,
    startOffset: start,
    targetLogStart: f.targetLogStart ?? null,
    targetLogEnd: f.targetLogEnd ?? null,
  };
  const exists = f.targetLogEnd !== undefined;
  const empty = !exists || f.targetLogEnd === f.targetLogStart;
  const target: TargetState = !exists ? "missing" : ctx.linkedState ? "linked" : empty ? "empty" : "foreign data";
  const plan = (mode: PartitionPlan["mode"], why: string): PartitionPlan => ({ ...base, target, mode, why });

  if (target === "linked") {
    const mode = ctx.recordedMode?.mode ?? "exact";
    const since = ctx.recordedMode && ctx.recordedMode.mode === "translate" ? ` (translate since source offset ${n(ctx.recordedMode.sinceOffset)})` : "";
    return plan(mode, `already linked (${ctx.linkedState}): resumes at target end offset ${n(f.targetLogEnd!)}${since}`);
  }
  if (target === "foreign data") {
    return plan(null, `the target holds offsets ${n(f.targetLogStart!)}..${n(f.targetLogEnd! - 1)} that klink did not write`);
  }
  if (settings.offsets === "translate") return plan("translate", "offsets: translate is configured");

  const targetEnd = f.targetLogEnd ?? 0;
  const refuse = (why: string) =>
    settings.offsets === "auto" ? plan("translate", `${why}: translate`) : plan(null, `${why}: exact offsets are impossible (offsets: exact)`);
  if (targetEnd > start) return refuse(`the target's log end ${n(targetEnd)} is past the source start ${n(start)}`);
  const prefix = start - targetEnd;
  if (prefix === 0) return plan("exact", start === 0 ? "starts at offset 0" : `the target already ends at ${n(start)}: nothing to fill`);
  if (prefix > settings.prefixFillLimit) return refuse(`prefix of ${n(prefix)} > limit ${n(settings.prefixFillLimit)}`);
  // run switches a compact-only target topic to compact,delete for the call, once, and back (align.ts).
  const policy = ctx.targetDeletable ? "" : " (cleanup.policy compact,delete for the call)";
  return plan("exact", `fill ${n(prefix)} slot${prefix === 1 ? "" : "s"}, then DeleteRecords(${n(start)})${policy}`);
}

function startOffset(f: PartitionFacts, settings: TopicSettings): number {
  switch (settings.start.kind) {
    case "earliest":
      return f.sourceLogStart;
    case "latest":
      return f.sourceLogEnd;
    case "timestamp":
      return f.timestampOffset === undefined || f.timestampOffset < 0 ? f.sourceLogEnd : f.timestampOffset;
  }
}
