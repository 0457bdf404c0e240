/**
 * One linked partition while klink runs. Its states, and the only transitions between them:
 *
 *   exact ──── dual write detected, or it cannot stay exact (offsets: auto) ───▶ translate
 *   exact, translate ──── an error of this partition (the others go on) ─────▶ stopped
 *   exact, translate ──── promote (the target is primary) ───────────────────▶ promoted
 *
 * A partition starts in exact or translate mode (partition/start.ts decides); stopped and promoted
 * are final for the run. In exact mode, records wait in `held` until what follows them on the
 * source is known (exact-plan.ts); in translate mode `lanes` is the bookkeeping of both directions it shares
 * with the Router (ledger.ts).
 */
import type { OffsetsSetting } from "../../config/types.ts";
import { HeldRecords } from "../held-records.ts";
import { InFlightRecords } from "../in-flight-records.ts";
import type { PartitionFillers } from "../fillers.ts";
import type { Lanes } from "../ledger.ts";
import type { OffsetMode } from "./state.ts";

export type PartitionState = "exact" | "translate" | "stopped" | "promoted";

export class LinkedPartition {
  state: PartitionState = "exact";
  /** The offset mode, also once stopped or promoted. */
  mode: OffsetMode = "exact";
  /** Why it stopped. */
  error: string | null = null;

  /** Next source offset to copy (exact: also the target's end offset once in-flight records land). */
  next: number;
  /** Source end as last seen (last stable offset). */
  sourceEnd: number;
  copiedRecords = 0;
  copiedBytes = 0;
  /** CreateTime of a recently copied record (sampled), for the lag in seconds; 0 when unknown. */
  copiedTimestamp = 0;
  /** When the Fetcher last copied a record a producer wrote to the source (performance.now()). */
  lastOriginalAt = 0;
  /** Records forwarded and not acknowledged yet, oldest first, for matching their delivery reports (exact and translate mode). */
  readonly unacknowledged = new InFlightRecords();
  get inFlight(): number {
    return this.unacknowledged.length;
  }

  // --- exact mode
  readonly held = new HeldRecords();
  /** Every source offset below it is final (read up to there). */
  known: number;
  /** `known` is a partition end reached after the last held record, and whether a source transaction was open there. */
  atEnd = false;
  openTransactionAtEnd = false;
  /** The partition's filler transactions (opened when first needed), and the transaction open on the target partition. */
  fillers: PartitionFillers | null = null;
  openFiller: "none" | "ours" | "stale" = "none";
  /** When the first held record began to wait for a later hole (0: not waiting). */
  lookaheadSince = 0;
  /** A filler transaction is being written to the target partition. */
  filling = false;

  // --- translate mode
  lanes: Lanes | null = null;

  constructor(
    readonly topic: string,
    readonly partition: number,
    /** offsets: in migration.yaml (exact, translate or auto). */
    readonly setting: OffsetsSetting,
    readonly prefixFillLimit: number,
    /** The target topic's max.message.bytes. */
    readonly maxRecordBytes: number,
    targetEnd: number,
    sourceEnd: number,
  ) {
    this.next = this.known = targetEnd;
    this.sourceEnd = sourceEnd;
  }

  /** Copying (exact or translate), not stopped nor promoted. */
  get copying(): boolean {
    return this.state === "exact" || this.state === "translate";
  }

  /** exact → translate: from source offset `next` on, copies are kept in the offset map by `lanes`. */
  toTranslate(lanes: Lanes, next: number): void {
    if (this.state !== "exact") throw new Error(`${this.topic}[${this.partition}]: to translate mode from ${this.state}`);
    this.state = "translate";
    this.mode = "translate";
    this.lanes = lanes;
    this.next = next;
  }

  /**
   * When an exact partition stopped by a cluster that did not answer in time (a broker
   * restarting) starts again by itself (performance.now() ms); null: it waits for the operator.
   */
  retryAt: number | null = null;

  /** → stopped, with the reason. False when it had stopped or been promoted already. */
  stop(reason: string, retryAt: number | null = null): boolean {
    if (!this.copying) return false;
    this.state = "stopped";
    this.error = reason;
    this.retryAt = retryAt;
    return true;
  }

  /** → promoted. False when it had stopped or been promoted already. */
  promote(): boolean {
    if (!this.copying) return false;
    this.state = "promoted";
    return true;
  }

  /** Everything the source had when last seen is written, nothing in flight, no filler transaction open. */
  get settled(): boolean {
    return this.held.length === 0 && this.inFlight === 0 && this.next >= this.sourceEnd && this.openFiller === "none" && !this.filling;
  }

  /** Exact mode with nothing held or in flight: the target's end offset must be `next`. */
  get idleExact(): boolean {
    return this.state === "exact" && this.held.length === 0 && this.inFlight === 0 && !this.filling;
  }
}
