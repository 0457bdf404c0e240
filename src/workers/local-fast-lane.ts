/**
 * link.fastLane (docs/fast-lane.md, "In klink run"): the klink that runs the link lends its plain
 * mirroring partitions to its own PartitionCopier, which copies them as record batches at
 * identical offsets, the way link.spread lends them to other workers. A partition moves between
 * the lanes only at a clean boundary: the Link lets go of it (held records dropped, every record in
 * flight acknowledged) before the copier starts at the target's end, and the copier lets go of it
 * (its round answered) before the Link restarts it there. What the copier cannot copy as bytes (a
 * transaction, a compacted gap, a record a producer wrote to the target) comes back to the Link's
 * exact lane, and stays there for a while (doubling up to 10 min) before it is tried again.
 */
import { partitionKey, partitionKeys, splitPartitionKey, type PartitionKey } from "./assignment.ts";
import { PartitionCopier } from "./partition-copier.ts";
import { TAKEOVER_WAIT_MS } from "./spread-partitions.ts";
import type { Cluster } from "../link/cluster.ts";
import type { LaneHere } from "../link/lending.ts";
import type { PartitionProgress } from "../link/partition/progress.ts";

type Part = { topic: string; partition: number };

/** What of the Link's lending the lane needs (lending.ts). */
export interface LendingToLane {
  lend(parts: Part[], here: boolean): Promise<Part[]>;
  takeBack(parts: Part[]): Promise<void>;
  linkedPartitions(): Part[];
  keptHere(): Part[];
  isLent(topic: string, partition: number): boolean;
  copiesHere(lane: LaneHere): void;
}

/** How often the lane looks for partitions to take on and ones the Link needs back. */
const LOOK_EVERY_MS = 1_000;
/** A partition that came back from the lane is not lent again before this, doubled at each return up to MAX_REST_MS. */
const FIRST_REST_MS = 30_000;
const MAX_REST_MS = 10 * 60_000;

export class LocalFastLane implements LaneHere {
  private readonly copier: PartitionCopier;
  /** Partitions that came back: not lent again before `until`. */
  private readonly resting = new Map<PartitionKey, { until: number; restMs: number }>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private looking: Promise<void> | null = null;
  /** Partitions between the lanes (lent, not yet with the copier; or let go of by it, not yet taken back): not caught up. */
  private readonly inTransit = new Set<PartitionKey>();
  private closed = false;

  constructor(private readonly o: { source: Cluster; target: Cluster; lending: LendingToLane; mayWrite: () => boolean; log: (line: string) => void }) {
    this.copier = new PartitionCopier({
      source: o.source, target: o.target, mayWrite: o.mayWrite, takeoverWaitMs: TAKEOVER_WAIT_MS, log: o.log,
      words: { from: "on the fast lane", backTo: "the exact lane" },
      onReturned: (key, _reason, clean) => this.returned(key, clean),
    });
  }

  /** Takes on partitions at once (the Link's first batches are the only ones the exact lane copies of them), then looks every second. */
  start(): void {
    this.o.lending.copiesHere(this);
    const lookNow = () => {
      if (!this.looking) this.looking = this.look().catch((err) => void (this.closed || this.o.log(`fast lane: ${(err as Error).message}`))).finally(() => (this.looking = null));
    };
    lookNow();
    this.timer = setInterval(lookNow, LOOK_EVERY_MS);
  }

  caughtUp(): boolean {
    return this.inTransit.size === 0 && this.copier.caughtUp();
  }

  lastCopiedAt(topic: string): number | null {
    return this.copier.lastCopiedAt(topic);
  }

  /** The lane's partitions as `klink status` shows them (mode exact: the same offsets). */
  progress(): PartitionProgress[] {
    return this.copier.progress().map((c) => ({
      topic: c.topic, partition: c.partition, mode: "exact", lane: "fast", next: c.next ?? -1, sourceEnd: c.sourceEnd, copiedRecords: c.copiedRecords,
      copiedBytes: c.copiedBytes, copiedTimestamp: 0, error: null, topicState: "mirroring",
      lastCopiedAt: c.lastCopiedAt ? new Date(Date.now() - (performance.now() - c.lastCopiedAt)).toISOString() : null,
    }));
  }

  /** Stops the lane once its round is answered; its partitions resume from the target's end at the next start (it keeps no state). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.looking;
    await this.copier.close();
  }

  /** Takes back what the Link must copy itself now (a lifecycle step, translate mode), and takes on what it may lend. */
  private async look(): Promise<void> {
    if (this.closed || !this.o.mayWrite()) return;
    const kept = new Set(partitionKeys(this.o.lending.keptHere()));
    const onLane = partitionKeys(this.copier.progress());
    const back = onLane.filter((k) => kept.has(k));
    if (back.length) await this.giveBack(back, "the link needs them on the exact lane (a lifecycle step, or not plain mirroring)");
    const now = performance.now();
    const take = this.o.lending.linkedPartitions().filter((x) => {
      const k = partitionKey(x.topic, x.partition);
      return !kept.has(k) && !this.o.lending.isLent(x.topic, x.partition) && (this.resting.get(k)?.until ?? 0) <= now;
    });
    if (!take.length || this.closed) return;
    const keys = partitionKeys(take);
    for (const k of keys) this.inTransit.add(k);
    let clean: PartitionKey[];
    try {
      clean = partitionKeys(await this.o.lending.lend(take, true));
      this.copier.add(keys, clean);
    } finally {
      for (const k of keys) this.inTransit.delete(k);
    }
    this.o.log(`fast lane: copying ${keys.length} partition(s) as record batches: ${keys.join(", ")}${clean.length < keys.length ? ` (${keys.length - clean.length} after ${TAKEOVER_WAIT_MS / 1000} s: the exact lane did not let go of them cleanly)` : ""}`);
  }

  /** The copier let go of them (its round answered): the Link copies them again. */
  private async giveBack(keys: PartitionKey[], why: string): Promise<void> {
    const clean = new Set(await this.copier.letGo(keys));
    this.o.log(`fast lane: ${keys.join(", ")} back to the exact lane: ${why}`);
    this.handBack(keys.filter((k) => clean.has(k)), true);
    this.handBack(keys.filter((k) => !clean.has(k)), false);
  }

  /** The copier gave `key` back (it wrote nothing of what it could not copy): the Link copies it again, and it rests. */
  private returned(key: PartitionKey, clean: boolean): void {
    const restMs = Math.min(MAX_REST_MS, (this.resting.get(key)?.restMs ?? FIRST_REST_MS / 2) * 2);
    this.resting.set(key, { until: performance.now() + restMs, restMs });
    this.handBack([key], clean);
  }

  /** The Link takes `keys` back: at once when every write of the lane was answered, else once what may still land has expired (11 s). */
  private handBack(keys: PartitionKey[], clean: boolean): void {
    if (!keys.length) return;
    for (const k of keys) this.inTransit.add(k);
    const takeBack = () => this.o.lending.takeBack(keys.map(splitPartitionKey))
      .catch((err) => void (this.closed || this.o.log(`taking back ${keys.join(", ")}: ${(err as Error).message}`)))
      .finally(() => keys.forEach((k) => this.inTransit.delete(k)));
    if (clean) void takeBack();
    else setTimeout(() => void takeBack(), TAKEOVER_WAIT_MS);
  }
}
