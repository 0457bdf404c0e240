/** Where a partition starts and in which mode (src/link/partition/start.ts): every decision, as plan reports it and run acts on it. */
import { test, expect } from "bun:test";
import { decideStart, type StartFacts, type StartSettings } from "../../src/link/partition/start.ts";

const settings = (over: Partial<StartSettings> = {}): StartSettings => ({ start: { kind: "earliest" }, offsets: "auto", prefixFillLimit: 1_000, ...over });
const f = (over: Partial<StartFacts> = {}): StartFacts => ({ sourceLogStart: 0, sourceEnd: 100, ...over });
const target = (logStart: number, end: number) => ({ target: { logStart, end } });

const rows: Array<[string, StartFacts, Partial<StartSettings>, ReturnType<typeof decideStart>]> = [
  ["new, source starts at 0", f(), {}, { action: "align", start: 0, from: 0, why: "starts at offset 0" }],
  ["new, the source starts later (retention): fill then DeleteRecords", f({ sourceLogStart: 600, sourceEnd: 700 }), {},
    { action: "align", start: 600, from: 0, why: "fills 600 offsets, then moves the target's log start to 600 (DeleteRecords)" }],
  ["new, one offset to fill", f({ sourceLogStart: 1 }), {}, { action: "align", start: 1, from: 0, why: "fills 1 offset, then moves the target's log start to 1 (DeleteRecords)" }],
  ["new, start: latest (the last stable offset)", f({ sourceEnd: 90 }), { start: { kind: "latest" } },
    { action: "align", start: 90, from: 0, why: "fills 90 offsets, then moves the target's log start to 90 (DeleteRecords)" }],
  ["new, start at a timestamp", f({ timestampOffset: 40 }), { start: { kind: "timestamp", timestampMs: 1 } },
    { action: "align", start: 40, from: 0, why: "fills 40 offsets, then moves the target's log start to 40 (DeleteRecords)" }],
  ["new, a timestamp after the last record starts at the end", f({ timestampOffset: -1 }), { start: { kind: "timestamp", timestampMs: 1 } },
    { action: "align", start: 100, from: 0, why: "fills 100 offsets, then moves the target's log start to 100 (DeleteRecords)" }],
  ["new, prefix over the limit, auto: translate", f({ sourceLogStart: 5_000, sourceEnd: 5_100 }), {},
    { action: "translate", from: 5_000, why: "aligning the start needs 5,000 filler offsets, more than link.prefixFillLimit (1,000)" }],
  ["new, prefix over the limit, exact: refused", f({ sourceLogStart: 5_000, sourceEnd: 5_100 }), { offsets: "exact" },
    { action: "refuse", why: "aligning the start needs 5,000 filler offsets, more than link.prefixFillLimit (1,000): exact offsets are impossible (offsets: exact); set offsets: auto to copy it in translate mode" }],
  ["new, offsets: translate", f({ sourceLogStart: 10 }), { offsets: "translate" }, { action: "translate", from: 10, why: "offsets: translate" }],
  ["an empty target partition that already ends at the start", f({ sourceLogStart: 50, ...target(50, 50) }), {},
    { action: "align", start: 50, from: 50, why: "the target already ends at 50: nothing to fill" }],
  ["an empty target partition that ends before the start", f({ sourceLogStart: 50, ...target(20, 20) }), {},
    { action: "align", start: 50, from: 20, why: "fills 30 offsets, then moves the target's log start to 50 (DeleteRecords)" }],
  ["an empty target partition that ends past the start", f({ sourceLogStart: 10, ...target(40, 40) }), {},
    { action: "translate", from: 10, why: "the target partition is empty but ends at 40, past the source start 10" }],
  ["a target with records klink did not write, auto: translate", f({ ...target(0, 5), exactCopyOnTarget: false }), {},
    { action: "translate", from: 0, why: "the target partition already holds offsets 0..4 that klink did not write" }],
  ["a target with records klink did not write, exact: refused", f({ ...target(0, 5), exactCopyOnTarget: false }), { offsets: "exact" },
    { action: "refuse", why: "the target partition already holds offsets 0..4 that klink did not write: exact offsets are impossible (offsets: exact); set offsets: auto to copy it in translate mode" }],
  ["records on the target, not known whether a copy (plan)", f({ ...target(0, 5) }), {},
    { action: "translate", from: 0, why: "the target partition already holds offsets 0..4 that klink did not write (kept in exact mode if they are an exact copy of the source, which run checks)" }],
  ["records producers wrote to a target partition klink created: dual write from the target's log start", f({ sourceLogStart: 3, ...target(0, 5), createdByKlink: true }), {},
    { action: "dual-write", from: 3, why: "the target partition already holds offsets 0..4, written by producers after klink created it and before copying began: dual write, routing them to the source" }],
  ["records producers wrote to a target partition klink created, exact: refused", f({ ...target(0, 5), createdByKlink: true }), { offsets: "exact" },
    { action: "refuse", why: "the target partition already holds offsets 0..4, written by producers after klink created it and before copying began: exact offsets are impossible (offsets: exact); set offsets: auto to copy it in translate mode (dual write)" }],
  ["records producers wrote to a target partition klink created, offsets: translate: still routed", f({ ...target(0, 5), createdByKlink: true }), { offsets: "translate" },
    { action: "dual-write", from: 0, why: "the target partition already holds offsets 0..4, written by producers after klink created it and before copying began: dual write, routing them to the source" }],
  ["an exact copy on the target without state: adopted", f({ ...target(0, 5), exactCopyOnTarget: true }), {},
    { action: "adopt", why: "the target partition already holds offsets 0..4, an exact copy of the source (klink's state was lost?): continues in exact mode" }],
  ["stored exact: resumes at the target's end", f({ ...target(0, 70), stored: { mode: "exact", sinceOffset: 0 } }), {},
    { action: "resume", mode: "exact", why: "resumes at the target's end offset 70" }],
  ["stored exact, an alignment a stop interrupted", f({ sourceLogStart: 600, ...target(0, 250), stored: { mode: "exact", sinceOffset: 600 } }), {},
    { action: "align", start: 600, from: 250, why: "finishes aligning the start at 600" }],
  ["stored exact, the target topic was emptied/recreated: new", f({ ...target(0, 0), stored: { mode: "exact", sinceOffset: 0 } }), {},
    { action: "align", start: 0, from: 0, why: "starts at offset 0" }],
  ["stored translate: resumes at the stored positions", f({ ...target(0, 70), stored: { mode: "translate", sinceOffset: 30 } }), {},
    { action: "resume", mode: "translate", why: "resumes translate mode (since source offset 30)" }],
];

for (const [name, facts, s, decision] of rows) test(name, () => expect(decideStart(facts, settings(s))).toEqual(decision));
