/** The exact-mode slot planner (src/link/exact-plan.ts): pure, table-driven. */
import { test, expect } from "bun:test";
import { nextStep, type SlotView, type Step } from "../../src/link/exact-plan.ts";

function view(next: number, held: number[], known: number, more: Partial<SlotView> = {}): SlotView {
  return {
    next, known, atEnd: false, openTransactionAtEnd: false, openFiller: "none", mayCommitHeld: false,
    held: { length: held.length, at: (i) => held[i]!, gapAfter: (i) => held.some((o, j) => j > i && o > held[j - 1]! + 1) }, ...more,
  };
}

const F: Step = { action: "forward" };
const C: Step = { action: "commitHeld" };
const S: Step = { action: "closeStale" };
const more: Step = { action: "wait", until: "more" };
const look: Step = { action: "wait", until: "lookahead" };
const fill = (fillers: number, close = true): Step => ({ action: "fill", fillers, close });

const rows: Array<[string, SlotView, Step]> = [
  ["nothing known yet", view(10, [], 10), more],
  ["a record followed by a record", view(10, [10, 11], 12), F],
  ["the last record read, its successor unknown", view(10, [10], 11), more],
  ["the last record at a partition end", view(10, [10], 11, { atEnd: true }), F],
  ["a record, then a hole of 2 before the next", view(10, [10, 13], 14), F],
  ["a record, then a one-slot hole, no later hole known", view(10, [10, 12], 13), look],
  ["… and a commit is allowed (no later hole came in time)", view(10, [10, 12], 13, { mayCommitHeld: true }), C],
  ["… a later hole is known among the held records", view(10, [10, 12, 13, 15], 16), F],
  ["… a later hole before the known end", view(10, [10, 12], 15), F],
  ["… a source transaction open at the partition end", view(10, [10, 12], 13, { atEnd: true, openTransactionAtEnd: true }), F],
  ["… our filler transaction is open: its marker goes there", view(10, [10, 12], 13, { openFiller: "ours" }), F],
  ["a one-slot hole at the end, may grow: hold", view(10, [10], 12, { atEnd: true }), look],
  ["… with a source transaction open there", view(10, [10], 12, { atEnd: true, openTransactionAtEnd: true }), F],
  ["a hole of 3 at the target's end", view(10, [13], 14), fill(2)],
  ["a hole of 2 up to the known end (may grow)", view(10, [], 12, { atEnd: true }), fill(1)],
  ["a hole up to the last record read (not a partition end): wait", view(10, [], 12), more],
  ["a one-slot hole up to the known end: wait, it may grow", view(10, [], 11, { atEnd: true }), more],
  ["a one-slot hole, our transaction open: its marker", view(10, [11], 12, { openFiller: "ours" }), fill(0)],
  ["a hole of 4, our transaction open: 3 fillers and its marker", view(10, [14], 15, { openFiller: "ours" }), fill(3)],
  ["a one-slot hole, a later hole known: a transaction opens", view(10, [11, 13], 14), fill(1, false)],
  ["a one-slot hole, no later hole known", view(10, [11, 12], 13), look],
  ["a one-slot hole, nothing held after it", view(10, [], 11), more],
  ["a stale transaction at a hole: close it", view(10, [12], 13, { openFiller: "stale" }), S],
  ["a stale transaction, record then one-slot hole", view(10, [10, 12], 13, { openFiller: "stale" }), F],
  ["a stale transaction, record then hole of 3", view(10, [10, 14], 15, { openFiller: "stale" }), F],
  ["a stale transaction, record then hole of 2, no later hole", view(10, [10, 13], 14, { openFiller: "stale" }), look],
  ["a stale transaction, record then hole of 2, later hole known", view(10, [10, 13], 15, { openFiller: "stale" }), F],
  ["a stale transaction never takes the held record into a commit", view(10, [10, 13], 14, { openFiller: "stale", mayCommitHeld: true }), look],
];

for (const [name, v, step] of rows) {
  test(name, () => expect(nextStep(v)).toEqual(step));
}

test("a held record below the target's end is a bug, not a step", () => {
  expect(() => nextStep(view(10, [9], 12))).toThrow();
});

/**
 * Simulation: random source structures (visible slots and holes), revealed slot by slot, planned
 * to the end; every step is checked against the slot it writes, and the plan never needs more
 * than it has (no lone hole without a transaction to end it).
 */
test("random structures: every step lands on the right kind of slot and everything gets written", () => {
  let seed = 5;
  const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  for (let run = 0; run < 300; run++) {
    const slots: boolean[] = []; // true: visible
    for (let i = 0; i < 200; i++) slots.push(random() < 0.7);
    if (run % 2) for (let i = 0; i < 3; i++) slots.push(true); // ends with records, or with holes
    let next = 0;
    let open: "none" | "ours" = "none";
    const written: string[] = [];
    const held: number[] = [];
    let revealed = 0;
    for (let guard = 0; guard < 10_000 && next < slots.length; guard++) {
      const step = nextStep(view(next, held, revealed, { openFiller: open, mayCommitHeld: revealed >= slots.length, atEnd: revealed >= slots.length }));
      if (step.action === "wait") {
        if (revealed >= slots.length) throw new Error(`run ${run}: stuck at ${next} (${step.until}) with everything known`);
        // As a read_committed reader learns: through the next record (holes before it are then final).
        while (revealed < slots.length && !slots[revealed]) revealed++;
        if (revealed < slots.length) held.push(revealed++);
        continue;
      }
      if (step.action === "forward" || step.action === "commitHeld") {
        expect(slots[next]).toBe(true);
        expect(held.shift()).toBe(next);
        written.push(step.action === "forward" ? "V" : "V+");
        next++;
        if (step.action === "commitHeld") {
          expect(slots[next]).toBe(false);
          next++;
        }
        continue;
      }
      if (step.action === "fill") {
        for (let i = 0; i < step.fillers; i++) expect(slots[next + i]).toBe(false);
        next += step.fillers;
        if (step.fillers > 0) open = "ours";
        expect(open).toBe("ours");
        if (step.close) {
          expect(slots[next]).toBe(false);
          next++;
          open = "none";
        }
      }
    }
    expect(next).toBe(slots.length);
    expect(open).toBe("none");
  }
});

test("HeldRecords: gaps between held records are counted as records come and go", async () => {
  const { HeldRecords } = await import("../../src/link/held-records.ts");
  const q = new HeldRecords();
  let destroyed = 0;
  const msg = () => ({ destroy: () => destroyed++ }) as never;
  for (const o of [10, 11, 13, 14, 20]) q.push(msg(), o, 5);
  expect([q.gapAfter(0), q.gapAfter(1), q.bytes]).toEqual([true, true, 25]);
  expect(q.shift().offset).toBe(10);
  expect(q.shift().offset).toBe(11); // the pair 11→13 leaves with 11
  expect([q.at(0), q.gapAfter(0), q.gapAfter(1)]).toEqual([13, true, true]);
  expect(q.shift().offset).toBe(13);
  expect([q.gapAfter(0), q.gapAfter(1)]).toEqual([true, false]); // 14→20 is the only gap left
  q.shift();
  expect([q.length, q.gapAfter(0)]).toEqual([1, false]);
  q.push(msg(), 21, 5);
  expect(q.gapAfter(0)).toBe(false);
  q.destroyAll();
  expect([q.length, q.bytes, destroyed]).toEqual([0, 0, 2]);
});
