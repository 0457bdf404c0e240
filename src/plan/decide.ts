/**
 * The decisions of `klink plan`, from facts read off both clusters: no I/O here.
 * The same rules apply when klink runs; plan only says them in advance. How a missing target
 * topic is created is decided in src/link/topic-create.ts, for both.
 */
import type { TopicSettings } from "../config/types.ts";
import type { PartitionPlan, TargetState } from "./types.ts";
import { decideStart, startOffset, type StartFacts } from "../link/partition/start.ts";


export interface PartitionFacts {
  partition: number;
  sourceLogStart: number;
  /** The source's last stable offset (its end for a read_committed reader). */
  sourceLogEnd: number;
  /** The offset for a timestamp start (-1: no record at or after it). */
  timestampOffset?: number;
  /** Absent when the target topic or partition does not exist. */
  targetLogStart?: number;
  targetLogEnd?: number;
}

export interface PartitionContext {
  settings: TopicSettings;
  /** The topic's lifecycle state in klink's storage, if any. */
  linkedState: string | null;
  /** Offset mode recorded for this partition by an earlier run, if any. */
  recordedMode: { mode: "exact" | "translate"; sinceOffset: number } | null;
  /** The target topic allows DeleteRecords (cleanup.policy contains delete). */
  targetDeletable: boolean;
  /** klink created the target partition (its state says so). */
  createdByKlink: boolean;
}

/** Where copying starts, the target's state, and the offset mode with its reason: partition/start.ts decides, as for `klink run`. */
export function decidePartition(f: PartitionFacts, ctx: PartitionContext): PartitionPlan {
  const { settings } = ctx;
  const target = f.targetLogEnd === undefined ? undefined : { logStart: f.targetLogStart ?? f.targetLogEnd, end: f.targetLogEnd };
  const facts: StartFacts = { sourceLogStart: f.sourceLogStart, sourceEnd: f.sourceLogEnd, ...(f.timestampOffset === undefined ? {} : { timestampOffset: f.timestampOffset }) };
  if (target) facts.target = target;
  if (ctx.recordedMode) facts.stored = ctx.recordedMode;
  if (ctx.createdByKlink) facts.createdByKlink = true;
  const d = decideStart(facts, settings);
  const state: TargetState = !target ? "missing" : ctx.recordedMode ? "linked" : target.end === target.logStart ? "empty" : ctx.createdByKlink ? "producer data" : "foreign data";
  const translates = d.action === "translate" || d.action === "dual-write" || (d.action === "resume" && d.mode === "translate");
  const mode = d.action === "refuse" ? null : translates ? "translate" : "exact";
  // run switches a compact-only target topic to compact,delete for the DeleteRecords call, once, and back (align.ts).
  const policy = d.action === "align" && d.start > (target?.logStart ?? 0) && !ctx.targetDeletable ? " (cleanup.policy compact,delete for the call)" : "";
  return {
    partition: f.partition,
    sourceLogStart: f.sourceLogStart,
    sourceLogEnd: f.sourceLogEnd,
    startOffset: startOffset(facts, settings.start),
    target: state,
    targetLogStart: f.targetLogStart ?? null,
    targetLogEnd: f.targetLogEnd ?? null,
    mode,
    why: d.why + policy,
  };
}
