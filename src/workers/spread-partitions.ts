/**
 * link.spread (docs/workers.md, "Spreading partitions"): where the partitions the worker group
 * gives this klink go. While it stands by, to its PartitionCopier (the fast lane, plain data
 * only); once it runs the link, to its Link: it claims every partition the Link copies, says which
 * must stay with it (`kept`), lends the others when the group moves them and takes them back when
 * the group returns them.
 */
import { partitionKeys, splitPartitionKey, type PartitionKey } from "./assignment.ts";
import { PartitionCopier } from "./partition-copier.ts";
import type { WorkerMetadata } from "./member-metadata.ts";
import type { Cluster } from "../link/cluster.ts";
import { STANDBY_MESSAGE_TIMEOUT_MS } from "../config/copying-clients.ts";

/**
 * How long a worker that is given a partition waits before it writes there: what the last owner
 * queued and did not send expires first (message.timeout.ms), also when it was paused or cut off.
 */
export const TAKEOVER_WAIT_MS = STANDBY_MESSAGE_TIMEOUT_MS + 1_000;
/** How long a returned partition is said to be returned: long enough for the runner to take it back. */
const RETURNED_FOR_MS = 60_000;
/** How often the runner looks whether its partitions or the ones it keeps changed. */
const PUBLISH_EVERY_MS = 2_000;

type Part = { topic: string; partition: number };

/** What of the Link spreading needs (link.ts). */
export interface SpreadLink {
  /** Resolves with those let go of cleanly (every record sent there acknowledged). */
  lend(parts: Part[]): Promise<Part[]>;
  takeBack(parts: Part[]): Promise<void>;
  linkedPartitions(): Part[];
  keptHere(): Part[];
}

/** What of the worker group spreading needs. */
export interface SpreadGroup {
  readonly owned: PartitionKey[];
  mayWrite(): boolean;
  claim(keys: PartitionKey[]): void;
  rejoin(): void;
}

export class SpreadPartitions {
  private readonly copier: PartitionCopier;
  private link: SpreadLink | null = null;
  private group: SpreadGroup | null = null;
  private readonly returned = new Map<PartitionKey, number>();
  /** Partitions the Link lent to other workers and has not taken back. */
  private readonly lentKeys = new Set<PartitionKey>();
  private published = "";
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly o: { source: Cluster; target: Cluster; log: (line: string) => void }) {
    this.copier = new PartitionCopier({
      source: o.source, target: o.target, mayWrite: () => this.group?.mayWrite() ?? false, takeoverWaitMs: TAKEOVER_WAIT_MS, log: o.log,
      onReturned: (key) => {
        this.returned.set(key, Date.now() + RETURNED_FOR_MS);
        this.group?.rejoin();
      },
    });
  }

  /** The worker group, once joined (claims and rejoins go to it). */
  joined(group: SpreadGroup): void {
    this.group = group;
  }

  /** The group gave this worker `keys`; `clean`: those their last owner let go of cleanly (no wait). */
  assigned(keys: PartitionKey[], clean: PartitionKey[] = []): void {
    const cleanly = new Set(clean);
    const now = keys.filter((k) => cleanly.has(k));
    const later = keys.filter((k) => !cleanly.has(k));
    if (!this.link) {
      if (now.length) this.o.log(`given ${now.length} partition(s) to copy: ${now.length} let go of cleanly by their last worker, copied at once: ${now.join(", ")}`);
      if (later.length) this.o.log(`given ${later.length} partition(s) to copy in ${TAKEOVER_WAIT_MS / 1000} s, once what their last worker may still send has expired: ${later.join(", ")}`);
      return this.copier.add(keys, now);
    }
    const link = this.link;
    const takeBack = (back: PartitionKey[]) => {
      const mine = back.filter((k) => this.group?.owned.includes(k)); // not moved away again meanwhile
      for (const k of mine) this.lentKeys.delete(k);
      if (mine.length) void link.takeBack(mine.map(splitPartitionKey)).catch((err) => this.o.log(`taking back ${mine.join(", ")}: ${(err as Error).message}`));
    };
    if (now.length) {
      this.o.log(`taking back ${now.length} partition(s) the other workers let go of cleanly: ${now.join(", ")}`);
      takeBack(now);
    }
    if (later.length) {
      this.o.log(`taking back ${later.length} partition(s) from the other workers in ${TAKEOVER_WAIT_MS / 1000} s: ${later.join(", ")}`);
      setTimeout(() => takeBack(later), TAKEOVER_WAIT_MS);
    }
  }

  /** Resolves once nothing more of `keys` is written here, with those let go of cleanly (every write answered). */
  async revoked(keys: PartitionKey[]): Promise<PartitionKey[]> {
    if (!this.link) return this.copier.letGo(keys);
    for (const k of keys) this.lentKeys.add(k);
    const clean = partitionKeys(await this.link.lend(keys.map(splitPartitionKey)));
    this.o.log(`lent ${keys.length} partition(s) to other workers: ${keys.join(", ")}${clean.length < keys.length ? ` (${keys.length - clean.length} not cleanly: their next worker waits ${TAKEOVER_WAIT_MS / 1000} s)` : ""}`);
    return clean;
  }

  /** The lease ended: the copier writes nothing more anyway (it asks the lease before every write). */
  lost(keys: PartitionKey[], reason: string): void {
    this.o.log(`no longer copies ${keys.join(", ")}: ${reason}`);
    void this.copier.letGo(keys);
  }

  /** This worker's part of its JoinGroup metadata. */
  metadata(): Pick<WorkerMetadata, "units" | "kept" | "returned"> {
    const now = Date.now();
    for (const [key, until] of this.returned) if (until < now) this.returned.delete(key);
    const returned = [...this.returned.keys()].sort();
    if (!this.link) return { returned };
    return { units: partitionKeys(this.link.linkedPartitions()), kept: partitionKeys(this.link.keptHere()), returned };
  }

  /**
   * This worker runs the link now (its Link started every partition, after no other worker claimed
   * one): it claims them, and from now on says which it keeps.
   */
  async runLink(link: SpreadLink): Promise<void> {
    await this.copier.letGo(partitionKeys(this.copier.progress()));
    this.link = link;
    this.publish();
    this.timer = setInterval(() => this.publish(), PUBLISH_EVERY_MS);
  }

  /** Claims what the Link copies and is not claimed yet, and rejoins when the units or those kept changed. */
  private publish(): void {
    if (!this.link || !this.group) return;
    const owned = new Set(this.group.owned);
    const running = partitionKeys(this.link.linkedPartitions()).filter((k) => !owned.has(k) && !this.lentKeys.has(k));
    const now = JSON.stringify(this.metadata());
    if (running.length) this.group.claim(running);
    else if (now !== this.published) this.group.rejoin();
    this.published = now;
  }


  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.copier.close();
  }
}
