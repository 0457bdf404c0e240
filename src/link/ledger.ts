/**
 * The bookkeeping of both directions of a translate-mode partition (its lanes), for dual write: which offsets each side wrote, so that
 * neither the Fetcher nor the Router copies back what the other wrote (loop prevention without
 * marking records, docs/loops.md). One `Lane` per direction:
 *
 *   fetch lane: reads the source, writes the target (the Fetcher)
 *   route lane: reads the target, writes the source (the Router)
 *
 * A reader that meets offset o on its cluster asks the *other* lane whether it wrote o:
 *   - o is among the offsets the other lane's delivery reports gave → skip it (a copy);
 *   - the other lane has nothing in flight, or already has a write acknowledged above o → o is
 *     an original: copy it (any write still in flight lands above o, since o already exists);
 *   - otherwise the record became visible before its delivery report reached klink: wait.
 *
 * Positions survive a crash: each lane's position (everything before it decided and, if copied,
 * acknowledged) is stored in the same atomic write as the offset-map rows of those decisions.
 */
import { positionWrites } from "./partition/state.ts";
import type { OffsetMapRow, Store, StoreWrite } from "../state/store.ts";

export type Verdict = "skip" | "copy" | "wait";

/** A queue of increasing offsets with O(1) push and shift. */
export class OffsetQueue {
  private items: number[] = [];
  private head = 0;

  push(offset: number): void {
    this.items.push(offset);
  }
  get length(): number {
    return this.items.length - this.head;
  }
  first(): number | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }
  /** The smallest offset ≥ `from` that is not in the queue. */
  firstAbsentFrom(from: number): number {
    let o = from;
    for (let i = this.head; i < this.items.length; i++) {
      const v = this.items[i]!;
      if (v < o) continue;
      if (v > o) break;
      o++;
    }
    return o;
  }

  shift(): number | undefined {
    const v = this.first();
    if (v === undefined) return undefined;
    this.head++;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }
}

export class Lane {
  /** Read-side offsets forwarded and not acknowledged yet, oldest first. */
  readonly inFlight = new OffsetQueue();
  /** Write-side offsets this lane wrote that the opposite reader has not passed yet. */
  readonly wrote = new OffsetQueue();
  /** Highest write-side offset acknowledged (-1: none). */
  lastWritten = -1;
  /** Records copied by this lane in this run. */
  copied = 0;
  /** Set when a write failed: the lane's position stays before the failed record. */
  failed = false;

  /** `next`: the next read-side offset to decide. */
  constructor(public next: number) {}

  /** Everything below it is decided and, when copied, acknowledged: where a restart resumes. */
  position(): number {
    return this.inFlight.first() ?? this.next;
  }
}

export class Lanes {
  readonly fetch: Lane;
  readonly route: Lane;

  constructor(
    readonly topic: string,
    readonly partition: number,
    fetchFrom: number,
    routeFrom: number,
  ) {
    this.fetch = new Lane(fetchFrom);
    this.route = new Lane(routeFrom);
  }

  /** The Fetcher met source offset `offset`: was it written by the Router? */
  classifySource(offset: number): Verdict {
    return classify(this.route, offset);
  }

  /** The Router met target offset `offset`: was it written by the Fetcher? */
  classifyTarget(offset: number): Verdict {
    return classify(this.fetch, offset);
  }
}

function classify(writer: Lane, offset: number): Verdict {
  let first = writer.wrote.first();
  while (first !== undefined && first < offset) {
    writer.wrote.shift(); // passed without being seen (deleted by retention): nothing to skip
    first = writer.wrote.first();
  }
  if (first === offset) {
    writer.wrote.shift();
    return "skip";
  }
  if (writer.inFlight.length === 0 || writer.lastWritten > offset) return "copy";
  return "wait";
}


/**
 * Every translate-mode partition of a link (its lanes), and the offset-map rows and state changes not stored yet.
 * `flush` stores them with the lanes' positions in one atomic write.
 */
export class Ledger {
  readonly partitions = new Map<string, Lanes>();
  private rows: OffsetMapRow[] = [];
  private changes: StoreWrite[] = [];
  private lastFlush = 0;
  /** A lane moved since the last flush. */
  private dirty = false;
  private flushing: Promise<void> | null = null;

  constructor(private readonly store: Store) {}

  static key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  get(topic: string, partition: number): Lanes | undefined {
    return this.partitions.get(Ledger.key(topic, partition));
  }

  add(p: Lanes): void {
    this.partitions.set(Ledger.key(p.topic, p.partition), p);
  }

  /** `p`'s lanes are done with (a resumed partition gets new ones): flush their positions first. */
  remove(p: Lanes): void {
    if (this.get(p.topic, p.partition) === p) this.partitions.delete(Ledger.key(p.topic, p.partition));
  }

  /** A record was forwarded: `readOffset` on the lane's read side. */
  sent(lane: Lane, readOffset: number): void {
    this.dirty = true;
    lane.inFlight.push(readOffset);
    lane.next = readOffset + 1;
  }

  /** A record was skipped as the other lane's copy (or was already copied). */
  skipped(lane: Lane, readOffset: number): void {
    this.dirty = true;
    lane.next = readOffset + 1;
  }

  /** A forwarded record's delivery report. */
  acknowledged(p: Lanes, lane: Lane, readOffset: number, writeOffset: number): void {
    if (lane.failed) return;
    lane.inFlight.shift();
    lane.wrote.push(writeOffset);
    lane.lastWritten = writeOffset;
    lane.copied++;
    const fromSource = lane === p.fetch;
    this.rows.push({
      topic: p.topic,
      partition: p.partition,
      sourceOffset: fromSource ? readOffset : writeOffset,
      targetOffset: fromSource ? writeOffset : readOffset,
      origin: fromSource ? "source" : "target",
    });
  }

  /** A state change stored with the next flush (in order, after the rows before it). */
  note(change: StoreWrite): void {
    this.changes.push(change);
  }

  pending(): number {
    return this.rows.length + this.changes.length;
  }

  /** Stores rows, changes and positions: at least every 200 ms, or at once with `now`. */
  async flush(now: boolean): Promise<void> {
    while (this.flushing) await this.flushing;
    if (!now && this.rows.length < 50_000 && performance.now() - this.lastFlush < 200) return;
    if (!this.dirty && this.rows.length === 0 && this.changes.length === 0) return;
    this.dirty = false;
    const writes: StoreWrite[] = [...this.changes];
    if (this.rows.length) writes.push({ offsets: this.rows });
    for (const p of this.partitions.values()) {
      writes.push(...positionWrites(p.topic, p.partition, p.fetch.position(), p.route.position()));
    }
    this.rows = [];
    this.changes = [];
    this.lastFlush = performance.now();
    this.flushing = this.store.write(writes).finally(() => (this.flushing = null));
    await this.flushing;
  }
}
