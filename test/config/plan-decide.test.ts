/** The decisions `klink plan` reports, from facts alone (no cluster needed). */
import { expect, test } from "bun:test";
import { decidePartition, type PartitionContext, type PartitionFacts } from "../../src/plan/decide.ts";
import type { TopicSettings } from "../../src/config/types.ts";

const settings = (over: Partial<TopicSettings> = {}): TopicSettings => ({
  start: { kind: "earliest" },
  offsets: "auto",
  prefixFillLimit: 1_000,
  create: { replicationFactor: null, copyConfigs: true, configs: {} },
  configSync: { enabled: true, exclude: [] },
  ...over,
});
const ctx = (over: Partial<PartitionContext> = {}): PartitionContext => ({ settings: settings(), linkedState: null, recordedMode: null, targetDeletable: true, createdByKlink: false, ...over });
const facts = (over: Partial<PartitionFacts> = {}): PartitionFacts => ({ partition: 0, sourceLogStart: 0, sourceLogEnd: 100, ...over });
const decide = (f: Partial<PartitionFacts>, c: Partial<PartitionContext> = {}) => {
  const p = decidePartition(facts(f), ctx(c));
  return [p.target, p.startOffset, p.mode, p.why];
};

// The reasons come from src/link/partition/start.ts (test/link/start-decision.test.ts has every row);
// here: that plan maps them to its target states and modes.
test("offset modes and their reasons", () => {
  expect(decide({})).toEqual(["missing", 0, "exact", "starts at offset 0"]);
  expect(decide({ sourceLogStart: 600 })).toEqual(["missing", 600, "exact", "fills 600 offsets, then moves the target's log start to 600 (DeleteRecords)"]);
  expect(decide({ sourceLogStart: 12_000_000, sourceLogEnd: 12_000_500 })).toEqual(["missing", 12_000_000, "translate", "aligning the start needs 12,000,000 filler offsets, more than link.prefixFillLimit (1,000)"]);
  expect(decide({ sourceLogStart: 12_000_000, sourceLogEnd: 12_000_500 }, { settings: settings({ offsets: "exact" }) })).toEqual([
    "missing", 12_000_000, null, "aligning the start needs 12,000,000 filler offsets, more than link.prefixFillLimit (1,000): exact offsets are impossible (offsets: exact); set offsets: auto to copy it in translate mode",
  ]);
  expect(decide({ sourceLogStart: 600 }, { settings: settings({ offsets: "translate" }) })).toEqual(["missing", 600, "translate", "offsets: translate"]);
  expect(decide({ sourceLogStart: 600 }, { targetDeletable: false })).toEqual(["missing", 600, "exact", "fills 600 offsets, then moves the target's log start to 600 (DeleteRecords) (cleanup.policy compact,delete for the call)"]);
});

test("the target's state decides first", () => {
  expect(decide({ targetLogStart: 0, targetLogEnd: 0 })).toEqual(["empty", 0, "exact", "starts at offset 0"]);
  expect(decide({ sourceLogStart: 50, targetLogStart: 50, targetLogEnd: 50 })).toEqual(["empty", 50, "exact", "the target already ends at 50: nothing to fill"]);
  expect(decide({ sourceLogStart: 10, targetLogStart: 40, targetLogEnd: 40 })).toEqual(["empty", 10, "translate", "the target partition is empty but ends at 40, past the source start 10"]);
  expect(decide({ targetLogStart: 0, targetLogEnd: 5 })[0]).toBe("foreign data");
  expect(decide({ targetLogStart: 0, targetLogEnd: 5 })[2]).toBe("translate");
  expect(decide({ targetLogStart: 0, targetLogEnd: 5 }, { createdByKlink: true })).toEqual([
    "producer data", 0, "translate", "the target partition already holds offsets 0..4, written by producers after klink created it and before copying began: dual write, routing them to the source",
  ]);
  expect(decide({ targetLogStart: 0, targetLogEnd: 70 }, { linkedState: "mirroring", recordedMode: { mode: "exact", sinceOffset: 0 } })).toEqual(["linked", 0, "exact", "resumes at the target's end offset 70"]);
  expect(decide({ targetLogStart: 0, targetLogEnd: 70 }, { linkedState: "dual-write", recordedMode: { mode: "translate", sinceOffset: 30 } })).toEqual([
    "linked", 0, "translate", "resumes translate mode (since source offset 30)",
  ]);
});

test("start positions: latest, a timestamp, a timestamp after the last record", () => {
  expect(decide({ sourceLogStart: 0, sourceLogEnd: 100 }, { settings: settings({ start: { kind: "latest" } }) })).toEqual(["missing", 100, "exact", "fills 100 offsets, then moves the target's log start to 100 (DeleteRecords)"]);
  const at = settings({ start: { kind: "timestamp", timestampMs: 1 } });
  expect(decide({ timestampOffset: 42 }, { settings: at })[1]).toBe(42);
  expect(decide({ timestampOffset: -1 }, { settings: at })[1]).toBe(100);
});
