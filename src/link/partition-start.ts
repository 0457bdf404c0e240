/**
 * Acting on a partition's start decision (partition/start.ts) when `klink run` links it: align a
 * new exact partition's log start, resume an exact one at the target's end (a filler transaction a
 * stopped klink left open, a record it left inside a commit, producers that wrote to the target
 * meanwhile), adopt an exact copy found without state, or begin translate mode.
 */
import { KafkaError, ErrorCode, OffsetSpec, type Admin, type Producer } from "../rdkafka/index.ts";
import type { Store } from "../state/store.ts";
import { groupSettings, type Cluster } from "./cluster.ts";
import { alignStart, type CleanupPolicySwitch } from "./align.ts";
import { PartitionFillers, fillerTransactionalId } from "./fillers.ts";
import { GroupClient } from "../group/client.ts";
import { readDigests } from "./verify.ts";
import { findDivergence } from "./reconcile.ts";
import { decideStart, type StartFacts, type StartSettings } from "./partition/start.ts";
import { exactWrite, stateKey, type StoredPartition } from "./partition/state.ts";
import type { LinkedPartition } from "./partition/partition.ts";

export interface StartContext {
  linkName: string;
  source: Cluster;
  target: Cluster;
  sourceAdmin: Admin;
  targetAdmin: Admin;
  store: Store;
  /** The Fetcher's target producer: start alignment writes its fillers with it. */
  producer: Producer;
  policy: CleanupPolicySwitch;
  log: (line: string) => void;
  /** Stores translate mode from source `from` and target `targetFrom` on; `toTranslate` also starts its bookkeeping. */
  storeTranslate: (p: LinkedPartition, from: number, targetFrom: number, why: string, identicalBelow: boolean) => Promise<void>;
  toTranslate: (p: LinkedPartition, from: number, targetFrom: number, why: string, identicalBelow: boolean) => Promise<void>;
  /** Resumes translate mode at the stored positions. */
  resumeTranslated: (p: LinkedPartition, stored: StoredPartition) => Promise<void>;
}

export class PartitionStarter {
  private txnClient: GroupClient | null = null;

  constructor(private readonly c: StartContext) {}

  /** Decides where `p` starts and gets it there; `facts.stored` is what the state holds for it. */
  async start(p: LinkedPartition, facts: StartFacts, stored: StoredPartition | undefined, settings: StartSettings): Promise<void> {
    const target = facts.target!;
    if (!stored && target.end > target.logStart) {
      // Records on the target without state: producers', if klink created the partition; else its own copy, if its state was lost?
      const createdFrom = await this.c.store.get(stateKey.createdFrom(p.topic));
      facts.createdByKlink = createdFrom !== null && p.partition >= Number(createdFrom);
      if (!facts.createdByKlink && p.setting !== "translate") facts.exactCopyOnTarget = await this.isExactCopy(p, target);
    }
    const d = decideStart(facts, settings);
    switch (d.action) {
      case "refuse":
        throw new KafkaError(ErrorCode.STATE, d.why);
      case "translate":
        return this.c.toTranslate(p, d.from, target.end, d.why, false);
      case "dual-write":
        return this.c.toTranslate(p, d.from, target.logStart, d.why, false);
      case "adopt":
        await this.c.store.write([exactWrite(p.topic, p.partition, target.logStart, "adopted an exact copy found on the target")]);
        this.c.log(`${p.topic}[${p.partition}]: ${d.why}`);
        return;
      case "resume":
        if (d.mode === "translate") return this.c.resumeTranslated(p, stored!);
        return this.resumeExact(p, target);
      case "align":
        if (!stored || stored.sinceOffset !== d.start) await this.c.store.write([exactWrite(p.topic, p.partition, d.start)]);
        await alignStart(this.c.producer, this.c.policy, p.topic, p.partition, d.from, d.start, target.logStart);
        p.next = p.known = d.start;
        if (d.start > 0) this.c.log(`${p.topic}[${p.partition}]: aligned, log start offset ${d.start} on both clusters`);
    }
  }

  /**
   * Resumes an exact partition at the target's end offset. A filler transaction a killed klink
   * left open ends at the next hole slot; a record it left inside an open commit cannot stay at its
   * offset; records producers wrote straight to the target while klink was stopped begin dual write.
   */
  private async resumeExact(p: LinkedPartition, mark: { logStart: number; end: number }): Promise<void> {
    const c = this.c;
    const [lastStable] = await c.targetAdmin.listOffsets([{ topic: p.topic, partition: p.partition, offset: OffsetSpec.LATEST }], true);
    const open = lastStable!.offset < mark.end ? lastStable!.offset : null;
    // The stopped klink's filler transaction may also hold this partition without any record in
    // it yet (killed between adding the partition and the record landing): its abort marker would
    // land wherever the partition's filler producer is next initialised.
    if (open === null && (await this.fillerTransactionOpen(p))) {
      p.openFiller = "stale";
      c.log(`${p.topic}[${p.partition}]: a filler transaction left open by the previous run holds this partition; it ends at the next hole`);
    }
    if (open !== null) {
      const [first] = await readDigests(c.source, p.topic, p.partition, open, 1);
      if (first?.offset === open) {
        // Only a record committed with its marker (commitHeld) opens a transaction at a visible slot.
        const why = `klink stopped while the record at source offset ${open} was inside a transaction that had not committed; the target cannot hold it at offset ${open} any more`;
        if (p.setting === "exact") throw new KafkaError(ErrorCode.STATE, `${why} (set offsets: auto to go on in translate mode, or re-create the target topic)`);
        p.fillers = await PartitionFillers.open(c.target, c.linkName, c.targetAdmin, p.topic, p.partition);
        return c.toTranslate(p, open, mark.end + 1, why, true);
      }
      p.openFiller = "stale";
      c.log(`${p.topic}[${p.partition}]: a filler transaction left open by the previous run begins at target offset ${open}; it ends at the next hole`);
    }
    // Producers may have written straight to the target while klink was stopped: dual write begins where they did.
    const diverged = await findDivergence(c.source, c.sourceAdmin, c.target, p.topic, p.partition, mark.logStart, mark.end);
    if (diverged < mark.end) {
      if (p.openFiller === "stale") {
        p.fillers = await PartitionFillers.open(c.target, c.linkName, c.targetAdmin, p.topic, p.partition); // its marker: offsets differ from here anyway
        p.openFiller = "none";
      }
      const why = `records written straight to the target from offset ${diverged} (dual write); offsets below ${diverged} are identical`;
      await c.storeTranslate(p, diverged, diverged, why, true);
      c.log(`${p.topic}[${p.partition}]: ${why} (the target differs from the source there since the last run); translate mode, routing target → source`);
      // The records between the divergence and the end are matched like after any restart in translate mode.
      const stored = { topic: p.topic, partition: p.partition, mode: "translate" as const, sinceOffset: diverged, detail: null, targetStart: diverged, identicalBelow: diverged, fetchPosition: diverged, routePosition: diverged };
      await c.resumeTranslated(p, stored);
    }
  }

  /** The partition's filler transactional id has a transaction open on it (DescribeTransactions); false when the target cannot tell. */
  private async fillerTransactionOpen(p: LinkedPartition): Promise<boolean> {
    const c = this.c;
    let client: GroupClient;
    try {
      client = this.txnClient ??= new GroupClient(groupSettings(c.target));
    } catch {
      return false; // settings only librdkafka supports: rely on the delivery-report checks
    }
    try {
      const open = await client.openTransactionPartitions(fillerTransactionalId(c.linkName, p.topic, p.partition));
      return open.some((tp) => tp.topic === p.topic && tp.partition === p.partition);
    } catch (err) {
      c.log(`${p.topic}[${p.partition}]: cannot describe its filler transaction on the target (${(err as Error).message}); going on`);
      return false;
    }
  }

  /** The target partition's first and last records equal the source's at the same offsets. */
  private async isExactCopy(p: LinkedPartition, mark: { logStart: number; end: number }): Promise<boolean> {
    const c = this.c;
    const [targetHead, targetTail] = await Promise.all([
      readDigests(c.target, p.topic, p.partition, mark.logStart, 5),
      readDigests(c.target, p.topic, p.partition, Math.max(mark.logStart, mark.end - 20), 20),
    ]);
    const target = [...targetHead, ...targetTail];
    if (target.length === 0) return false;
    const [sourceHead, sourceTail] = await Promise.all([
      readDigests(c.source, p.topic, p.partition, targetHead[0]!.offset, targetHead.length),
      readDigests(c.source, p.topic, p.partition, targetTail[0]?.offset ?? mark.logStart, targetTail.length),
    ]);
    const source = [...sourceHead, ...sourceTail];
    return source.length === target.length && source.every((d, i) => d.offset === target[i]!.offset && d.hash === target[i]!.hash);
  }

  close(): void {
    this.txnClient?.close();
  }
}
