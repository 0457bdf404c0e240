/**
 * How the Fetcher keeps a target partition's offsets equal to the source's (exact mode), decided
 * slot by slot from what it knows of the source partition (docs/offsets.md). Pure: no I/O.
 *
 * The source, read `read_committed` up to its last stable offset, is a run of *visible* slots
 * (records) and *holes* (transaction markers, aborted records, records the log cleaner removed).
 * The target must get the records at the same offsets and an invisible slot for every hole:
 *
 * - a visible slot: the record, through the idempotent producer (never inside a transaction: a
 *   transaction that a kill -9 leaves open is aborted on restart, and would hide the record);
 * - holes are filled by filler transactions: filler records at hole slots, then the abort marker
 *   at a hole slot. A hole of h ≥ 2 takes one closed transaction (h − 1 fillers and its marker).
 *   A hole of one slot takes the marker of a transaction that is already open, or the first filler
 *   of a new one whose marker lands in a later hole: such a transaction is opened only when that
 *   later hole is known (or certain: a transaction was open on the source at its end), so it never
 *   stays open for long, and the visible records written meanwhile stay hidden only until then.
 * - a kill -9 may leave a filler transaction open (*stale*); its abort marker lands wherever the
 *   target ends when klink restarts, so klink restarts it only at a hole slot.
 * - last resort, when no later hole is known for a while: the record before a one-slot hole is
 *   written inside a transaction that commits, whose marker fills the hole (`commitHeld`). A kill
 *   -9 in the few milliseconds before that commit hides the record; the restart reports it.
 *
 * Why a one-slot hole right after a partition end always has a later hole: a record is readable
 * `read_committed` only once its transaction's marker is replicated, so the slot after the last
 * stable offset cannot be the marker of a transaction holding records before it; if it becomes a
 * hole, it is an aborted record, and its own transaction's abort marker comes later.
 */

/** Offsets of the records read and not written yet, in increasing order. */
export interface HeldOffsets {
  readonly length: number;
  at(index: number): number;
  /** Some held record after the one at `index` does not follow its predecessor directly (a hole between them). */
  gapAfter(index: number): boolean;
}

export interface SlotView {
  /** The target's end offset: the next slot to write. */
  next: number;
  /** Records read from the source and not written yet (all at or after `next`). */
  held: HeldOffsets;
  /** Every source offset below this is final. */
  known: number;
  /** `known` is a partition end (the last stable offset) reached after the last held record. */
  atEnd: boolean;
  /** At that end a transaction was open on the source (high watermark above it): a hole will follow. */
  openTransactionAtEnd: boolean;
  /** A filler transaction open on the target partition: klink's own, or one a killed klink left. */
  openFiller: "none" | "ours" | "stale";
  /** The held record may be written inside a committing transaction (no later hole came in time). */
  mayCommitHeld: boolean;
}

export type Step =
  /** Write the first held record (at `next`) with the idempotent producer. */
  | { action: "forward" }
  /** Write the first held record inside a transaction that commits: its marker fills next + 1. */
  | { action: "commitHeld" }
  /** Filler records at next, next + 1, …, into the open filler transaction (or a new one); then its abort marker when `close`. */
  | { action: "fill"; fillers: number; close: boolean }
  /** A killed klink's filler transaction: its abort marker lands at `next`. */
  | { action: "closeStale" }
  /** Nothing to write yet: `more` until more of the source is known, `lookahead` until a later hole is (or commitHeld is allowed). */
  | { action: "wait"; until: "more" | "lookahead" };

const FORWARD: Step = { action: "forward" };
const COMMIT_HELD: Step = { action: "commitHeld" };
const CLOSE_STALE: Step = { action: "closeStale" };
const WAIT_MORE: Step = { action: "wait", until: "more" };
const WAIT_LOOKAHEAD: Step = { action: "wait", until: "lookahead" };

export function nextStep(v: SlotView): Step {
  const s = v.next;
  if (s >= v.known) return WAIT_MORE;
  const first = v.held.length > 0 ? v.held.at(0) : undefined;
  if (first === s) return visible(v, s);
  if (first !== undefined && first < s) throw new Error(`held record at ${first} is below the target's end ${s}`);
  // s is a hole: up to the first held record, or (open-ended, after a partition end) at least up to `known`.
  if (first === undefined && !v.atEnd) return WAIT_MORE;
  const h = (first ?? v.known) - s;
  if (v.openFiller === "stale") return CLOSE_STALE;
  if (v.openFiller === "ours" || h >= 2) return { action: "fill", fillers: h - 1, close: true };
  // One slot, no transaction open: a new one opens here if its marker has a later hole to go to.
  if (first !== undefined && laterHoleCertain(v, 0)) return { action: "fill", fillers: 1, close: false };
  return first === undefined ? WAIT_MORE : WAIT_LOOKAHEAD;
}

/** The first held record is at `s`: may it be written now, given the hole (if any) after it? */
function visible(v: SlotView, s: number): Step {
  const second = v.held.length > 1 ? v.held.at(1) : undefined;
  if (second === s + 1) return FORWARD;
  if (second === undefined && s + 1 >= v.known) {
    // Nothing known after it. At a partition end a hole there would be an aborted record whose
    // marker comes later (see the header), so it can be filled then; elsewhere, wait and see.
    return v.atEnd ? FORWARD : WAIT_MORE;
  }
  if (v.openFiller === "ours") return FORWARD; // the open transaction takes fillers and ends in that hole
  const h = (second ?? v.known) - (s + 1);
  if (v.openFiller === "stale") {
    // Its marker takes s + 1. What remains must not be a lone slot without a later hole (slots
    // beyond a partition end are fine, see the header).
    if (h === 1 || h >= 3) return FORWARD;
    return laterHoleCertain(v, 1) ? FORWARD : WAIT_LOOKAHEAD;
  }
  if (h >= 2) return FORWARD; // a closed filler transaction fits
  if (laterHoleCertain(v, 1)) return FORWARD; // a filler transaction opens at s + 1 and ends in that later hole
  return v.mayCommitHeld ? COMMIT_HELD : WAIT_LOOKAHEAD;
}

/** A hole is known, or certain to come, after the held record at `index`. */
function laterHoleCertain(v: SlotView, index: number): boolean {
  if (v.held.gapAfter(index)) return true;
  const last = v.held.length > index ? v.held.at(v.held.length - 1) : -1;
  if (last >= 0 && last + 1 < v.known) return true; // a hole before `known`
  return v.atEnd && v.openTransactionAtEnd;
}
