/**
 * What a worker copies when the worker group gives it partitions of a link it does not run
 * (link.spread, docs/workers.md "Spreading partitions"): plain data only, at identical offsets,
 * on the fast lane (src/fast-lane/). It keeps no state: a partition continues at the target's end,
 * which is where the last owner's acknowledged records ended (it let go cleanly, or what it still
 * held expired during `takeoverWaitMs`). Anything the lane cannot copy as bytes (a transaction, a
 * compacted gap, a record that lands at another offset because a producer wrote to the target)
 * ends the partition here: it goes back to the worker that runs the link, whose exact lane and
 * start checks (partition-start.ts) handle it.
 */
import { Admin, OffsetSpec } from "../rdkafka/index.ts";
import { GroupClient } from "../group/index.ts";
import { groupSettings, type Cluster } from "../link/cluster.ts";
import { BatchCopier, type LanePartition } from "../fast-lane/batch-copier.ts";
import { copyHeads, laneStart } from "../fast-lane/head-copy.ts";
import { STANDBY_MESSAGE_TIMEOUT_MS } from "../config/copying-clients.ts";
import { findDivergence } from "../link/reconcile.ts";
import { inParallel } from "../link/in-parallel.ts";
import { partitionKey, splitPartitionKey, type PartitionKey } from "./assignment.ts";

/** How many partitions find their start (the target's end, its tail checked, the head copied) at once. */
const STARTED_AT_ONCE = 8;
/** A cluster that does not answer: the partition is tried again after this long. */
const RETRY_MS = 1_000;

export interface PartitionCopierOptions {
  source: Cluster;
  target: Cluster;
  /** The worker's lease: asked before every write. */
  mayWrite: () => boolean;
  /** How long after it is given a partition the copier waits before writing it (what an earlier owner queued expires first). */
  takeoverWaitMs: number;
  /** A partition this worker cannot copy on; it writes nothing more there. `clean`: every write to it was answered (nothing of it can still land). */
  onReturned: (key: PartitionKey, reason: string, clean: boolean) => void;
  /** For the log: where the partitions come from and where they go back to (default: another worker's Link). */
  words?: { from: string; backTo: string };
  log: (line: string) => void;
}

interface Copied {
  p: LanePartition;
  /** Where the copy continues; null until it has found where (the target's end) and copied the head. */
  next: number | null;
  notBefore: number;
  copiedRecords: number;
  copiedBytes: number;
  /** The source partition's end for a read_committed reader in the last round (-1: none yet). */
  sourceEnd: number;
  /** When a round last copied a record (performance.now()); 0: none yet. */
  lastCopiedAt: number;
  /** A write to it may have gone unanswered (a round failed on a timeout, a broken connection, a moved leader): whoever copies next must wait. */
  uncertain: boolean;
}

export interface CopiedProgress {
  topic: string;
  partition: number;
  next: number | null;
  copiedRecords: number;
  copiedBytes: number;
  sourceEnd: number;
  lastCopiedAt: number;
}

export class PartitionCopier {
  private readonly parts = new Map<PartitionKey, Copied>();
  private readonly sourceClient: GroupClient;
  private readonly targetClient: GroupClient;
  private readonly lane: BatchCopier;
  private readonly targetAdmin: Admin;
  private readonly sourceAdmin: Admin;
  private stopping = false;
  /** The step running now: letting go of a partition waits for it (its writes answered). */
  private current: Promise<void> = Promise.resolve();
  private readonly loop: Promise<void>;
  private readonly words: { from: string; backTo: string };
  /** When a round last copied a record of each topic (kept after its partitions leave). */
  private readonly copiedAt = new Map<string, number>();

  constructor(private readonly o: PartitionCopierOptions) {
    this.sourceClient = new GroupClient(groupSettings(o.source));
    this.targetClient = new GroupClient(groupSettings(o.target));
    this.lane = new BatchCopier(this.sourceClient, this.targetClient, { maxBytes: 1024 * 1024, mayWrite: o.mayWrite });
    this.targetAdmin = new Admin(o.target.config, o.target.options);
    this.sourceAdmin = new Admin(o.source.config, o.source.options);
    this.words = o.words ?? { from: "lent by the worker that runs the link", backTo: "the worker that runs the link" };
    this.loop = this.run();
  }

  /** Partitions the group gave this worker: copied once `takeoverWaitMs` has passed (at once those in `clean`: their last owner let go cleanly). */
  add(keys: PartitionKey[], clean: PartitionKey[] = []): void {
    const now = performance.now();
    const cleanly = new Set(clean);
    for (const key of keys) {
      const notBefore = cleanly.has(key) ? now : now + this.o.takeoverWaitMs;
      this.parts.set(key, { p: splitPartitionKey(key), next: null, notBefore, copiedRecords: 0, copiedBytes: 0, sourceEnd: -1, lastCopiedAt: 0, uncertain: false });
    }
  }

  /**
   * Stops copying `keys`; resolves once nothing more of them can be written (the round in progress
   * answered), with those of them whose every write was answered here.
   */
  async letGo(keys: PartitionKey[]): Promise<PartitionKey[]> {
    const leaving = keys.flatMap((key) => this.parts.get(key) ?? []);
    for (const key of keys) this.parts.delete(key);
    await this.current;
    return leaving.filter((c) => !c.uncertain).map((c) => partitionKey(c.p.topic, c.p.partition));
  }

  progress(): CopiedProgress[] {
    return [...this.parts.values()].map((c) => ({
      topic: c.p.topic, partition: c.p.partition, next: c.next, copiedRecords: c.copiedRecords, copiedBytes: c.copiedBytes,
      sourceEnd: c.sourceEnd, lastCopiedAt: c.lastCopiedAt,
    }));
  }

  /** When a round last copied a record of `topic` (performance.now()), also of partitions let go of since; null: never. */
  lastCopiedAt(topic: string): number | null {
    return this.copiedAt.get(topic) ?? null;
  }

  /** Every partition copied up to the source's end (last stable offset) of its last round, none still to begin. */
  caughtUp(): boolean {
    for (const c of this.parts.values()) if (c.next === null || c.sourceEnd < 0 || c.next < c.sourceEnd) return false;
    return true;
  }

  async close(): Promise<void> {
    this.stopping = true;
    this.parts.clear();
    await this.loop;
    this.targetAdmin.close();
    this.sourceAdmin.close();
    this.sourceClient.close();
    this.targetClient.close();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      this.current = this.step().catch((err) => this.o.log(`fast lane: ${(err as Error).message}`));
      await this.current;
    }
  }

  private async step(): Promise<void> {
    const now = performance.now();
    const due = [...this.parts.values()].filter((c) => c.next === null && c.notBefore <= now);
    if (due.length && this.o.mayWrite()) await inParallel(due, STARTED_AT_ONCE, (c) => this.begin(c)); // begin() catches its errors
    const ready = [...this.parts.values()].filter((c) => c.next !== null);
    if (!ready.length) return void (await Bun.sleep(100));
    let results;
    try {
      results = await this.lane.copyRounds(ready.map((c) => ({ partition: c.p, next: c.next! })));
    } catch (err) {
      for (const c of ready) c.uncertain = true;
      throw err;
    }
    let retry = false;
    for (const [i, r] of results.entries()) {
      const c = ready[i]!; // the results come in the order asked
      // a request may have gone unanswered (a refusal was answered, and what followed it is refused for its sequence)
      if (r.error?.retriable) c.uncertain = true;
      if (this.parts.get(partitionKey(c.p.topic, c.p.partition)) !== c) continue; // let go of during the round
      c.next = r.next;
      c.copiedRecords += r.copiedRecords;
      c.copiedBytes += r.copiedBytes;
      if (r.stableEnd >= 0) c.sourceEnd = r.stableEnd;
      if (r.copiedRecords > 0) this.copiedAt.set(c.p.topic, (c.lastCopiedAt = performance.now()));
      if (r.error?.retriable) retry = true;
      else if (r.error) this.giveBack(c, r.error.message);
      else if (r.stoppedAt) this.giveBack(c, `offset ${r.stoppedAt.offset} cannot be copied as bytes: ${r.stoppedAt.reason}`);
    }
    if (retry) await Bun.sleep(100);
  }

  /** Where `c` continues: the target's end (checked to end with the source's records), after copying the rest of a batch the last owner stopped inside. */
  private async begin(c: Copied): Promise<void> {
    const { topic, partition } = c.p;
    let from: number;
    try {
      const [[end], [stable]] = await Promise.all([
        this.targetAdmin.listOffsets([{ topic, partition, offset: OffsetSpec.LATEST }], false),
        this.targetAdmin.listOffsets([{ topic, partition, offset: OffsetSpec.LATEST }], true),
      ]);
      if (stable!.offset < end!.offset) return this.giveBack(c, `a transaction is open on the target partition at offset ${stable!.offset}`);
      from = end!.offset;
      // a producer may have written to the target since the last owner let go: its record is not the source's
      const diverged = await findDivergence(this.o.source, this.sourceAdmin, this.o.target, topic, partition, Math.max(0, from - 50), from);
      if (diverged < from) return this.giveBack(c, `the target's record at offset ${diverged} is not the source's (a producer wrote to the target?)`);
      const start = await laneStart(this.lane, c.p, from);
      if (start.kind === "refused") return this.giveBack(c, start.reason);
      if (start.kind === "head") {
        try {
          await copyHeads(topic, [{ partition, from, to: start.to }], {
            source: this.o.source, target: this.o.target, mayWrite: this.o.mayWrite, messageTimeoutMs: STANDBY_MESSAGE_TIMEOUT_MS,
          });
        } catch (err) {
          c.uncertain = true; // some of the head may still be on its way
          return this.giveBack(c, `copying offsets ${from} to ${start.to - 1} inside a batch: ${(err as Error).message}`);
        }
        c.copiedRecords += start.to - from;
        from = start.to;
      }
    } catch (err) {
      c.notBefore = performance.now() + RETRY_MS;
      this.o.log(`${topic}[${partition}]: cannot start copying yet: ${(err as Error).message}`);
      return;
    }
    if (this.parts.get(partitionKey(topic, partition)) !== c) return;
    c.next = from;
    this.o.log(`${topic}[${partition}]: copying from offset ${from} (${this.words.from})`);
  }

  private giveBack(c: Copied, reason: string): void {
    const key = partitionKey(c.p.topic, c.p.partition);
    if (this.parts.get(key) !== c) return;
    this.parts.delete(key);
    this.o.log(`${c.p.topic}[${c.p.partition}]: back to ${this.words.backTo}: ${reason}`);
    this.o.onReturned(key, reason, !c.uncertain);
  }
}
