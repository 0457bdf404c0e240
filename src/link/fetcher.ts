/**
 * The Fetcher: copies every linked source partition to the same partition of the target so that
 * each record lands at the same offset (exact mode; docs/offsets.md).
 *
 * Data path, per consumed source record m of partition p:
 *   1. the record is *held* until what follows it on the source is known (exact-plan.ts decides);
 *   2. records are written zero-copy through the idempotent producer, never inside a transaction;
 *      holes (markers, aborted or compacted-away records) get invisible slots from the
 *      partition's filler transactions (fillers.ts);
 *   3. each delivery report must carry the source offset; anything else stops the partition.
 * The target's end offset is therefore always the next source offset to copy: a restart resumes
 * from it without a checkpoint, losing and duplicating nothing.
 *
 * Long because: it still fuses start, translation, watchers and the hot path; being split (issue 12).
 */
import { Producer, Consumer, Admin, KafkaError, ErrorCode, OffsetSpec, type ConsumedMessage, type DeliveryReport } from "../rdkafka/index.ts";
import { PartitionsByHandle } from "./partitions-by-handle.ts";
import { FORWARD_PRODUCER, SOURCE_CONSUMER } from "./client-settings.ts";
import type { Store } from "../state/store.ts";
import type { Cluster } from "./cluster.ts";
import { provisionTopic, describeSourceTopic, type CreateSettings } from "./provision.ts";
import { PartitionFillers, fillerTransactionalId } from "./fillers.ts";
import { GroupClient } from "../group/client.ts";
import { alignStart, CleanupPolicySwitch } from "./align.ts";
import { HeldRecords } from "./held-records.ts";
import { nextStep, type Step } from "./exact-plan.ts";
import { sourceRanges, type StartPosition, type SourceRange } from "./start.ts";
import { readDigests } from "./verify.ts";
import type { OffsetsSetting } from "../config/types.ts";
import type { PartitionState as StoredPartition, TopicLifecycle } from "../state/store.ts";
import { Ledger, TwoWayPartition, positionKey } from "./ledger.ts";
import { Router, type RoutedProgress } from "./router.ts";
import { reconcile, findDivergence } from "./reconcile.ts";
import { settleReplication } from "./settle.ts";

export interface LinkedTopic {
  name: string;
  start: StartPosition;
  /** exact: offsets identical or the partition stops; translate: an offset map; auto: exact where possible. */
  offsets: OffsetsSetting;
  /** Longest prefix of invisible offsets written to align a partition's start. */
  prefixFillLimit: number;
  /** How a missing target topic is created. */
  create: CreateSettings;
}

export interface FetcherOptions {
  linkName: string;
  source: Cluster;
  target: Cluster;
  topics: LinkedTopic[];
  store: Store;
  /** Cap on bytes consumed and not yet acknowledged by the target (backpressure). */
  maxInFlightBytes: number;
  log: (line: string) => void;
}

export interface PartitionProgress {
  topic: string;
  partition: number;
  /** exact: target offset == source offset; translate: copied records are in the offset map. */
  mode: "exact" | "translate";
  /** Next source offset to copy (= target end offset once in-flight records land). */
  next: number;
  /** Source end as last seen (last stable offset). */
  sourceEnd: number;
  copiedRecords: number;
  copiedBytes: number;
  /** CreateTime of a recently copied record (sampled), for the lag in seconds; 0 when unknown. */
  copiedTimestamp: number;
  error: string | null;
  /** In dual write: the Router's progress on this partition (target → source). */
  routed?: RoutedProgress;
  /** The topic's lifecycle state (design.md). */
  topicState?: TopicLifecycle;
}

/** How long a record before a one-slot hole waits for a later hole before it is committed with the marker. */
const LOOKAHEAD_MS = 2_000;

interface Partition extends PartitionProgress {
  setting: OffsetsSetting;
  /** Exact mode: records read and not written yet (their successors unknown). */
  queue: HeldRecords;
  /** Every source offset below it is final (read up to there). */
  known: number;
  /** `known` is a partition end reached after the last held record, and whether a source transaction was open there. */
  atEnd: boolean;
  openTransactionAtEnd: boolean;
  /** The partition's filler transactions (opened when first needed), and the transaction open on the target partition. */
  fillers: PartitionFillers | null;
  openFiller: "none" | "ours" | "stale";
  /** When the first held record began to wait for a later hole (0: not waiting). */
  lookaheadSince: number;
  inFlight: number;
  prefixFillLimit: number;
  maxRecordBytes: number;
  /** Translate mode: the two-way bookkeeping shared with the Router. */
  two: TwoWayPartition | null;
  /** A filler transaction or an alignment is writing to the target partition. */
  filling: boolean;
  /** When the Fetcher last copied a record that a producer wrote to the source (performance.now()). */
  lastOriginalAt: number;
  /** Promoted: no longer copied nor routed. */
  retired: boolean;
}

export class Fetcher {
  private readonly partitions = new Map<string, Partition>();
  private readonly expected = new Map<number, { p: Partition; offset: number; bytes: number }>();
  private readonly ledger: Ledger;
  private router!: Router;
  /** Lifecycle state of each linked topic, as stored. */
  private readonly topicStates = new Map<string, TopicLifecycle>();
  private inFlightBytes = 0;
  /** Bytes of records read and held (exact mode), not forwarded yet. */
  private heldBytes = 0;
  private consumer!: Consumer;
  private producer!: Producer;
  private policy!: CleanupPolicySwitch;
  private sourceAdmin!: Admin;
  private targetAdmin!: Admin;
  private stopping = false;

  constructor(private readonly options: FetcherOptions) {
    this.ledger = new Ledger(options.store);
  }

  private key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  /** A consumed record → its partition. */
  private readonly partitionOf = new PartitionsByHandle(() => this.partitions.values());

  /** Provisions target topics, aligns and resumes partitions, and assigns the source consumer. */
  async start(): Promise<void> {
    const o = this.options;
    this.sourceAdmin = new Admin(o.source.config, o.source.options);
    this.targetAdmin = new Admin(o.target.config, o.target.options);
    this.policy = new CleanupPolicySwitch(this.targetAdmin, o.store, o.log);
    this.producer = new Producer(
      { ...o.target.config, ...FORWARD_PRODUCER },
      { ...o.target.options, onDelivery: (r) => this.delivered(r), onError: (e) => e.fatal && o.log(`target producer: ${e.message}`) },
    );
    this.consumer = new Consumer({ ...o.source.config, ...SOURCE_CONSUMER, "enable.partition.eof": true }, o.source.options);
    this.router = new Router({
      source: o.source, target: o.target, ledger: this.ledger, maxInFlightBytes: o.maxInFlightBytes,
      pollFetcher: () => this.producer.poll(),
      onFirstRouted: (p, offset) => this.enterDualWrite(p.topic, `first record written straight to the target: ${p.topic}[${p.partition}] offset ${offset}`),
      onFailed: (p, err) => {
        const fp = this.partitions.get(this.key(p.topic, p.partition));
        if (fp) this.fail(fp, new Error(`routing target → source: ${err.message}`));
      },
    });
    await this.checkClusterPair();
    await this.policy.restoreLeftovers(o.topics.map((t) => t.name));
    for (const t of await o.store.topics()) this.topicStates.set(t.topic, t.state);
    const assignment: Array<{ topic: string; partition: number; offset: number }> = [];
    for (const t of o.topics) assignment.push(...(await this.linkTopic(t, t.start)));
    this.consumer.assign(assignment);
  }

  /**
   * Provisions the target topic and prepares every partition of `t` not linked yet in this run;
   * returns where the consumer starts in each.
   */
  private async linkTopic(t: LinkedTopic, start: StartPosition): Promise<Array<{ topic: string; partition: number; offset: number }>> {
    const o = this.options;
    const provisioned = await provisionTopic(this.sourceAdmin, this.targetAdmin, t.name, t.create);
    if (provisioned.action !== "exists") o.log(`${t.name}: target topic ${provisioned.action} (${provisioned.partitions} partitions)`);
    const desc = await describeSourceTopic(this.sourceAdmin, t.name);
    const ids = desc.partitions.map((p) => p.partition).filter((id) => !this.partitions.has(this.key(t.name, id)));
    if (ids.length === 0) return [];
    const known = new Map((await o.store.partitions(t.name)).map((s) => [s.partition, s]));
    const resumed = ids.filter((id) => known.has(id));
    if (resumed.length) {
      // A killed predecessor's last writes must be visible before the ends are read.
      await Promise.all([settleReplication(this.targetAdmin, t.name, resumed, o.log), settleReplication(this.sourceAdmin, t.name, resumed, o.log)]);
    }
    const ranges = await sourceRanges(this.sourceAdmin, t.name, ids, start);
    const targetMarks = await this.targetAdmin.watermarks(ids.map((partition) => ({ topic: t.name, partition })));
    const maxBytes = await this.targetMaxMessageBytes(t.name);
    // One switch of a compact-only topic's cleanup.policy for all partitions that align now.
    this.policy.hold(t.name);
    const prepared = await Promise.all(ranges.map(async (range) => {
      const mark = targetMarks.find((m) => m.partition === range.partition)!;
      const p: Partition = {
        topic: t.name, partition: range.partition, mode: "exact", setting: t.offsets, next: mark.high, sourceEnd: range.lastStableOffset,
        copiedRecords: 0, copiedBytes: 0, copiedTimestamp: 0, error: null, queue: new HeldRecords(), known: mark.high, atEnd: false,
        openTransactionAtEnd: false, fillers: null, openFiller: "none", lookaheadSince: 0, inFlight: 0, prefixFillLimit: t.prefixFillLimit,
        maxRecordBytes: maxBytes, two: null, filling: false, lastOriginalAt: 0, retired: false,
      };
      this.partitions.set(this.key(t.name, range.partition), p);
      try {
        await this.resumeOrBegin(p, range, mark, known.get(range.partition));
      } catch (err) {
        p.error = (err as Error).message;
      }
      return p;
    })).finally(() => this.policy.release(t.name));
    const assignment: Array<{ topic: string; partition: number; offset: number }> = [];
    for (const p of prepared) {
      if (p.error) o.log(`${t.name}[${p.partition}]: not copied: ${p.error}`);
      else assignment.push({ topic: t.name, partition: p.partition, offset: p.next });
    }
    return assignment;
  }

  private lastGrowthCheck = performance.now();

  /**
   * Every 10 s: partitions added to a source topic get their target partitions and are copied
   * from their first record (everything in a new partition is new, whatever link.start says).
   */
  private async linkNewPartitions(): Promise<void> {
    if (performance.now() - this.lastGrowthCheck < 10_000) return;
    this.lastGrowthCheck = performance.now();
    for (const t of this.options.topics) {
      try {
        const [desc] = await this.sourceAdmin.describeTopics([t.name]);
        if (desc!.partitions.every((p) => this.partitions.has(this.key(t.name, p.partition)))) continue;
        const added = await this.linkTopic(t, { kind: "earliest" });
        if (added.length === 0) continue;
        this.partitionOf.forget();
        // The target producers must know the new partitions before records arrive for them.
        this.producer.refreshMetadata(t.name);
        this.consumer.incrementalAssign(added);
        this.options.log(`${t.name}: the source grew to ${desc!.partitions.length} partitions; copying ${added.map((a) => a.partition).join(", ")} too`);
      } catch {
        // the source topic is unreachable or gone: refreshSourceEnds reports that
      }
    }
  }

  /**
   * Where a partition starts: a new exact link (its target log start aligned with the source's),
   * an exact link resumed at the target's end offset, or a translate-mode link (new, or resumed
   * after its offset map is reconciled with what reached the target).
   */
  private async resumeOrBegin(p: Partition, range: SourceRange, mark: { low: number; high: number }, state: StoredPartition | undefined): Promise<void> {
    if (state?.mode === "translate") return this.resumeTranslated(p, state);
    if (state && mark.high > 0) return this.resumeExact(p, state, mark);
    if (mark.high > 0 && p.setting !== "translate" && (await this.isExactCopy(p, mark))) {
      // No state, but the target already holds the source's records at the same offsets: klink
      // copied them before and lost its state. Continue in exact mode rather than copy twice.
      await this.options.store.write([{ partition: { topic: p.topic, partition: p.partition }, mode: "exact", sinceOffset: mark.low, detail: "adopted an exact copy found on the target" }]);
      this.options.log(`${p.topic}[${p.partition}]: the target already holds an exact copy of source offsets ${mark.low}..${mark.high - 1} (klink's state was lost?): continuing in exact mode`);
      return;
    }
    if (mark.high > 0 || p.setting === "translate") {
      if (p.setting === "exact") {
        throw new Error(`the target partition already holds ${mark.high - mark.low} records that klink did not write (offsets ${mark.low}..${mark.high - 1}); empty it, or set offsets: auto or translate`);
      }
      const why = mark.high > 0 ? `the target partition already held ${mark.high - mark.low} records` : "offsets: translate";
      return this.beginTranslated(p, range.start, mark.high, why);
    }
    // New (or the target topic was recreated): the target's log starts where copying starts.
    await this.options.store.write([{ partition: { topic: p.topic, partition: p.partition }, mode: "exact", sinceOffset: range.start }]);
    await this.align(p, range.start, 0);
  }

  /**
   * Resumes an exact partition at the target's end offset. A filler transaction a killed klink
   * left open ends at the next hole slot; a record it left inside an open commit cannot stay at its
   * offset; records producers wrote straight to the target while klink was stopped begin dual write.
   */
  private async resumeExact(p: Partition, state: StoredPartition, mark: { low: number; high: number }): Promise<void> {
    const o = this.options;
    if (mark.low < state.sinceOffset && mark.high <= state.sinceOffset) return this.align(p, state.sinceOffset, mark.high); // a start alignment a stop interrupted
    const [lastStable] = await this.targetAdmin.listOffsets([{ topic: p.topic, partition: p.partition, offset: OffsetSpec.LATEST }], true);
    const open = lastStable!.offset < mark.high ? lastStable!.offset : null;
    // The stopped klink's filler transaction may also hold this partition without any record in
    // it yet (killed between adding the partition and the record landing): its abort marker would
    // land wherever the partition's filler producer is next initialised.
    if (open === null && (await this.fillerTransactionOpen(p))) {
      p.openFiller = "stale";
      o.log(`${p.topic}[${p.partition}]: a filler transaction left open by the previous run holds this partition; it ends at the next hole`);
    }
    if (open !== null) {
      const [first] = await readDigests(o.source, p.topic, p.partition, open, 1);
      if (first?.offset === open) {
        // Only a record committed with its marker (commitHeld) opens a transaction at a visible slot.
        const why = `klink stopped while the record at source offset ${open} was inside a transaction that had not committed; the target cannot hold it at offset ${open} any more`;
        if (p.setting === "exact") throw new KafkaError(ErrorCode.STATE, `${why} (set offsets: auto to go on in translate mode, or re-create the target topic)`);
        p.fillers = await PartitionFillers.open(o.target, o.linkName, this.targetAdmin, p.topic, p.partition);
        return this.beginTranslated(p, open, mark.high + 1, why, true);
      }
      p.openFiller = "stale";
      o.log(`${p.topic}[${p.partition}]: a filler transaction left open by the previous run begins at target offset ${open}; it ends at the next hole`);
    }
    // Producers may have written straight to the target while klink was stopped: dual write begins where they did.
    const diverged = await findDivergence(o.source, o.target, p.topic, p.partition, mark.low, mark.high);
    if (diverged < mark.high) {
      if (p.openFiller === "stale") {
        p.fillers = await PartitionFillers.open(o.target, o.linkName, this.targetAdmin, p.topic, p.partition); // its marker: offsets differ from here anyway
        p.openFiller = "none";
      }
      await this.beginTwoWay(p, diverged, diverged, `records written straight to the target from offset ${diverged} (dual write); offsets below ${diverged} are identical`, true);
      await this.resumeTranslated(p, { ...state, mode: "translate", sinceOffset: diverged });
    }
  }

  /** The partition's filler transactional id has a transaction open on it (DescribeTransactions); false when the target cannot tell. */
  private async fillerTransactionOpen(p: Partition): Promise<boolean> {
    const o = this.options;
    let client: GroupClient;
    try {
      client = this.txnClient ??= new GroupClient({ config: o.target.config, ...(o.target.token ? { token: o.target.token } : {}) });
    } catch {
      return false; // settings only librdkafka supports: rely on the delivery-report checks
    }
    try {
      const open = await client.openTransactionPartitions(fillerTransactionalId(o.linkName, p.topic, p.partition));
      return open.some((tp) => tp.topic === p.topic && tp.partition === p.partition);
    } catch (err) {
      o.log(`${p.topic}[${p.partition}]: cannot describe its filler transaction on the target (${(err as Error).message}); going on`);
      return false;
    }
  }

  private txnClient: GroupClient | null = null;

  /** The target partition's first and last records equal the source's at the same offsets. */
  private async isExactCopy(p: Partition, mark: { low: number; high: number }): Promise<boolean> {
    const o = this.options;
    const [targetHead, targetTail] = await Promise.all([
      readDigests(o.target, p.topic, p.partition, mark.low, 5),
      readDigests(o.target, p.topic, p.partition, Math.max(mark.low, mark.high - 20), 20),
    ]);
    const target = [...targetHead, ...targetTail];
    if (target.length === 0) return false;
    const [sourceHead, sourceTail] = await Promise.all([
      readDigests(o.source, p.topic, p.partition, targetHead[0]!.offset, targetHead.length),
      readDigests(o.source, p.topic, p.partition, targetTail[0]?.offset ?? mark.low, targetTail.length),
    ]);
    const source = [...sourceHead, ...sourceTail];
    return source.length === target.length && source.every((d, i) => d.offset === target[i]!.offset && d.hash === target[i]!.hash);
  }

  /** From source offset `from` on, records are appended after target offset `targetEnd` and mapped. */
  private async beginTranslated(p: Partition, from: number, targetEnd: number, why: string, identicalBelow = false): Promise<void> {
    await this.beginTwoWay(p, from, targetEnd, why, identicalBelow);
    this.startTwoWay(p, from, targetEnd);
    this.options.log(`${p.topic}[${p.partition}]: translate mode from source offset ${from} (target offset ${targetEnd}): ${why}`);
  }

  /**
   * Stores the switch to translate mode (two-way bookkeeping): source offsets from `from` and
   * target offsets from `targetFrom` are mapped; `identicalBelow`: offsets below `from` are the
   * same on both clusters (an exact copy until then).
   */
  private async beginTwoWay(p: Partition, from: number, targetFrom: number, why: string, identicalBelow: boolean): Promise<void> {
    await this.options.store.write(this.twoWayChanges(p, from, targetFrom, why, identicalBelow));
    p.mode = "translate";
    p.next = from;
  }

  private twoWayChanges(p: Partition, from: number, targetFrom: number, why: string, identicalBelow: boolean) {
    return [
      { partition: { topic: p.topic, partition: p.partition }, mode: "translate" as const, sinceOffset: from, detail: why },
      { put: translateStartKey(p), value: String(targetFrom) },
      { put: identicalBelowKey(p), value: identicalBelow ? String(from) : null },
      { put: positionKey("fetch", p.topic, p.partition), value: String(from) },
      { put: positionKey("route", p.topic, p.partition), value: String(targetFrom) },
    ];
  }

  /** The ledger entry of a translate-mode partition, and its Router. */
  private startTwoWay(p: Partition, fetchFrom: number, routeFrom: number, sourceCopied: number[] = [], targetCopied: number[] = []): TwoWayPartition {
    const two = new TwoWayPartition(p.topic, p.partition, fetchFrom, routeFrom);
    for (const o of sourceCopied) two.route.wrote.push(o);
    for (const o of targetCopied) two.fetch.wrote.push(o);
    two.route.lastWritten = sourceCopied.at(-1) ?? -1;
    two.fetch.lastWritten = targetCopied.at(-1) ?? -1;
    p.two = two;
    this.ledger.add(two);
    this.router.add(two);
    return two;
  }

  /**
   * A producer wrote to the target partition at `targetOffset` (seen in a delivery report, or in
   * the target's end offset while the Fetcher was idle): from there on offsets differ, and both
   * directions are kept in the offset map. Synchronous: it runs inside a delivery-report callback.
   */
  private switchToTwoWay(p: Partition, at: number, inFlightFrom: number[]): void {
    const why = `records written straight to the target from offset ${at} (dual write); offsets below ${at} are identical`;
    for (const change of this.twoWayChanges(p, at, at, why, true)) this.ledger.note(change);
    p.mode = "translate";
    const two = this.startTwoWay(p, p.next, at);
    for (const o of inFlightFrom) two.fetch.inFlight.push(o);
    this.lookingAhead.delete(p);
    this.fillersToEnd.add(p);
    this.enterDualWrite(p.topic, `first record written straight to the target: ${p.topic}[${p.partition}] offset ${at}`);
    this.options.log(`${p.topic}[${p.partition}]: ${why}; routing target → source from there`);
  }

  /** A lifecycle change made elsewhere (promote, rollback), for progress and status. */
  setTopicState(topic: string, state: TopicLifecycle): void {
    this.topicStates.set(topic, state);
  }

  /** The topic's lifecycle moves to dual-write (stored with the next ledger flush). */
  private enterDualWrite(topic: string, detail: string): void {
    const state = this.topicStates.get(topic);
    if (state && state !== "mirroring") return;
    this.topicStates.set(topic, "dual-write");
    this.ledger.note({ topic, state: "dual-write", detail });
    this.options.log(`${topic}: dual-write (${detail})`);
  }

  /**
   * Resumes a translate-mode partition at its stored positions, after pairing by content the
   * copies whose delivery reports a stopped klink never stored (reconcile.ts).
   */
  private async resumeTranslated(p: Partition, state: StoredPartition): Promise<void> {
    const store = this.options.store;
    p.mode = "translate";
    const fetchFrom = Number((await store.get(positionKey("fetch", p.topic, p.partition))) ?? state.sinceOffset);
    const routeFrom = Number((await store.get(positionKey("route", p.topic, p.partition))) ?? (await store.get(translateStartKey(p))) ?? 0);
    const r = await reconcile(store, this.options.source, this.options.target, p.topic, p.partition, fetchFrom, routeFrom);
    p.next = fetchFrom;
    this.startTwoWay(p, fetchFrom, routeFrom, r.sourceCopied, r.targetCopied);
    if (r.found.length) this.options.log(`${p.topic}[${p.partition}]: ${r.found.length} records copied before the last stop mapped again`);
    if (await store.last("target", p.topic, p.partition, "target")) this.enterDualWrite(p.topic, "resumed");
  }

  /** The state belongs to one (source, target) pair: refuse to continue against other clusters. */
  private async checkClusterPair(): Promise<void> {
    const store = this.options.store;
    for (const [role, admin] of [["source", this.sourceAdmin], ["target", this.targetAdmin]] as const) {
      const id = (await admin.describeCluster()).clusterId ?? "unknown";
      const known = await store.get(`cluster.${role}.id`);
      if (known === null) await store.write([{ put: `cluster.${role}.id`, value: id }]);
      else if (known !== id) {
        throw new KafkaError(ErrorCode.STATE, `the ${role} cluster's id is ${id}, but the state in ${store.location} belongs to cluster ${known}; use a new state file for a new cluster pair`);
      }
    }
  }

  private async targetMaxMessageBytes(topic: string): Promise<number> {
    const configs = await this.targetAdmin.describeTopicConfigs(topic);
    return Number(configs.find((c) => c.name === "max.message.bytes")?.value ?? 1048588);
  }

  progress(): PartitionProgress[] {
    return [...this.partitions.values()].map((p) => {
      const progress: PartitionProgress = {
        topic: p.topic, partition: p.partition, mode: p.mode, next: p.next, sourceEnd: p.sourceEnd, copiedRecords: p.copiedRecords,
        copiedBytes: p.copiedBytes, copiedTimestamp: p.copiedTimestamp, error: p.error, topicState: this.topicStates.get(p.topic) ?? "mirroring",
      };
      const routed = p.two ? this.router.progress(p.two) : undefined;
      return routed ? { ...progress, routed } : progress;
    });
  }

  /**
   * Where a consumer group committed at source offset `offset` resumes on the target: the lowest
   * target offset among the records at or after `offset` (so nothing the group had not read is
   * skipped), once every source record before `offset` is on the target; null until then.
   */
  async groupOffset(topic: string, partition: number, offset: number): Promise<number | null> {
    const p = this.partitions.get(this.key(topic, partition));
    if (!p || p.error) return null;
    const two = p.two;
    const identicalBelow = two ? Number((await this.options.store.get(identicalBelowKey(p))) ?? -1) : Infinity;
    if (!two || offset < identicalBelow) {
      const [mark] = await this.targetAdmin.watermarks([{ topic, partition }]);
      return mark!.high >= offset && (two || p.next >= offset) ? offset : null;
    }
    // Positions first, then the rows behind them: a row acknowledged after the snapshot is
    // above the snapshot's positions and cannot lower the answer.
    const fetched = two.fetch.position();
    // The Router has not decided target offsets from its position on; the Fetcher's own copies
    // among them were read on the source already, the first other one may not have been.
    const routed = two.fetch.wrote.firstAbsentFrom(two.route.position());
    if (fetched < offset) return null;
    await this.ledger.flush(true);
    const row = await this.options.store.seek("source", topic, partition, offset);
    return Math.min(row?.targetOffset ?? Infinity, routed);
  }

  /**
   * Rollback: where a group committed at target offset `offset` resumes on the source, once every
   * target record before `offset` is on the source; null until then.
   */
  async groupOffsetToSource(topic: string, partition: number, offset: number): Promise<number | null> {
    const p = this.partitions.get(this.key(topic, partition));
    if (!p || p.error) return null;
    const two = p.two;
    const identicalBelow = two ? Number((await this.options.store.get(identicalBelowKey(p))) ?? -1) : Infinity;
    if (!two || offset < identicalBelow) return offset; // the target holds only copies of source records here
    const routedUpTo = two.route.position();
    if (routedUpTo < offset) return null;
    const fetched = two.route.wrote.firstAbsentFrom(two.fetch.position());
    await this.ledger.flush(true);
    const row = await this.options.store.seek("target", topic, partition, offset);
    return Math.min(row?.sourceOffset ?? Infinity, fetched);
  }

  /** True when every partition has copied up to the source end seen last, with nothing in flight. */
  caughtUp(): boolean {
    for (const p of this.partitions.values()) {
      if (p.error || p.retired) continue;
      if (!settled(p)) return false;
    }
    return this.ledger.pending() === 0 && this.router.caughtUp();
  }

  /** Copies (and routes) until `stop()` is called, or (with `untilCaughtUp`) until `caughtUp()`. */
  async run(untilCaughtUp = false): Promise<void> {
    const routing = this.router.run();
    try {
      await this.fetch(untilCaughtUp);
    } finally {
      this.router.stop();
      await routing;
    }
  }

  private async fetch(untilCaughtUp: boolean): Promise<void> {
    let idle = 0;
    while (!this.stopping) {
      const lookahead = this.revisitLookahead();
      if (lookahead) await lookahead;
      await this.endFillerTransactions();
      if (this.inFlightBytes + this.heldBytes > this.options.maxInFlightBytes) {
        // Held records count too: a long wait for a later hole ends by the lookahead timer.
        if (this.producer.poll() === 0) await Bun.sleep(1);
        continue;
      }
      await this.ledger.flush(false);
      this.refreshSourceEnds();
      this.watchTargetEnds();
      await this.linkNewPartitions();
      const messages = this.consumer.consumeBatch(2000, 0);
      if (messages.length === 0) {
        this.producer.poll();
        await this.ledger.flush(true);
        if (untilCaughtUp && this.caughtUp()) break;
        await Bun.sleep(Math.min(++idle, 10));
        continue;
      }
      idle = 0;
      this.batchAt = performance.now();
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        const p = this.partitionOf.of(m); // found now: handle() may free m
        try {
          const pending = this.handle(m, p);
          if (pending) await pending;
        } catch (err) {
          if (p) this.fail(p, err as Error);
          m.destroy();
        }
      }
      this.producer.poll();
    }
  }

  stop(): void {
    this.stopping = true;
    this.router?.stop();
  }

  private lastEndsRefresh = 0;
  private refreshingEnds = false;

  /**
   * Every few seconds, in the background: each source partition's last stable offset (for the
   * lag shown by progress and status), which also notices a source topic that was deleted.
   */
  private refreshSourceEnds(): void {
    if (this.refreshingEnds || performance.now() - this.lastEndsRefresh < 5_000) return;
    this.refreshingEnds = true;
    this.lastEndsRefresh = performance.now();
    const byTopic = new Map<string, Partition[]>();
    for (const p of this.partitions.values()) if (!p.error) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
    Promise.all(
      [...byTopic].map(async ([topic, parts]) => {
        try {
          const ends = await this.sourceAdmin.listOffsets(parts.map((p) => ({ topic, partition: p.partition, offset: OffsetSpec.LATEST })), true);
          for (const e of ends) {
            const p = this.partitions.get(this.key(topic, e.partition));
            if (p && e.offset > p.sourceEnd) p.sourceEnd = e.offset;
          }
        } catch (err) {
          if (err instanceof KafkaError && (err.codeName === "UNKNOWN_TOPIC_OR_PART" || err.codeName === "_UNKNOWN_TOPIC" || err.codeName === "_NOENT")) {
            let gone = false;
            try {
              gone = this.sourceAdmin.listTopics().every((t) => t.name !== topic);
            } catch {
              // the source is unreachable right now: ask again next time
            }
            if (gone) for (const p of parts) this.fail(p, new KafkaError(err.code, `the source topic ${topic} no longer exists (deleted?): its partitions stop here`));
          }
        }
      }),
    )
      .catch(() => {}) // a refresh that fails (a broker failing over) is simply tried again later
      .finally(() => (this.refreshingEnds = false));
  }

  private lastTargetWatch = performance.now();
  private watchingTargets = false;

  /**
   * Every 2 s, in the background: an idle exact-mode partition whose target end offset moved
   * past the Fetcher's next offset was written to by a producer (a busy one shows it in the
   * delivery reports instead): dual write begins there.
   */
  private watchTargetEnds(): void {
    if (this.watchingTargets || performance.now() - this.lastTargetWatch < 2_000) return;
    const idle = [...this.partitions.values()].filter((p) => isIdleExact(p));
    if (idle.length === 0) return;
    this.watchingTargets = true;
    this.lastTargetWatch = performance.now();
    const seen = new Map(idle.map((p) => [p, p.next]));
    const byTopic = new Map<string, Partition[]>();
    for (const p of idle) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
    Promise.all(
      [...byTopic].map(async ([topic, parts]) => {
        const ends = await this.targetAdmin.listOffsets(parts.map((p) => ({ topic, partition: p.partition, offset: OffsetSpec.LATEST })), false);
        for (const e of ends) {
          const p = this.partitions.get(this.key(topic, e.partition));
          if (!p || !isIdleExact(p) || p.next !== seen.get(p)) continue; // it copied meanwhile: its reports will tell
          if (e.offset > p.next) this.switchToTwoWay(p, p.next, []);
        }
      }),
    )
      .catch(() => {}) // tried again in 2 s
      .finally(() => (this.watchingTargets = false));
  }

  /**
   * One consumed message. Synchronous on the hot path (a record right after the held one); a
   * promise only when a transaction or an event must be awaited.
   */
  private handle(m: ConsumedMessage, p: Partition | undefined): Promise<void> | void {
    if (!p) return this.topicError(m);
    if (m.errorCode) return this.partitionEvent(p, m);
    const offset = m.offset;
    if (p.error || p.retired) return m.destroy();
    if (p.mode === "translate") return this.handleTwoWay(p, m, offset);
    if (offset < p.known) return m.destroy(); // read before (a re-fetch after a seek)
    const size = m.valueLength + m.keyLength;
    p.queue.push(m, offset, size);
    this.heldBytes += size;
    p.known = offset + 1;
    p.atEnd = false;
    if (p.queue.length === 2 && p.queue.at(0) === p.next && offset === p.next + 1) return this.forwardHeld(p); // the common case
    return this.advance(p);
  }

  /** Writes what can be written now (exact mode), as exact-plan.ts decides; a promise while a transaction is written. */
  private advance(p: Partition): Promise<void> | void {
    while (p.mode === "exact" && !p.error && !p.retired) {
      const step = nextStep({
        next: p.next, held: p.queue, known: p.known, atEnd: p.atEnd, openTransactionAtEnd: p.openTransactionAtEnd, openFiller: p.openFiller,
        mayCommitHeld: p.lookaheadSince > 0 && performance.now() - p.lookaheadSince >= LOOKAHEAD_MS,
      });
      if (step.action === "forward") {
        this.forwardHeld(p);
        continue;
      }
      if (step.action === "wait") {
        if (step.until === "lookahead") {
          if (p.lookaheadSince === 0) p.lookaheadSince = performance.now();
          this.lookingAhead.add(p);
        }
        return;
      }
      return this.writeInvisible(p, step).then(() => this.advance(p));
    }
  }

  /** Partitions whose held record waits for a later hole: looked at again when LOOKAHEAD_MS has passed. */
  private readonly lookingAhead = new Set<Partition>();

  private revisitLookahead(): Promise<void> | void {
    for (const p of this.lookingAhead) {
      if (performance.now() - p.lookaheadSince < LOOKAHEAD_MS) continue;
      this.lookingAhead.delete(p);
      const pending = this.advance(p);
      if (pending) return pending.catch((err) => this.fail(p, err as Error));
    }
  }

  /**
   * Dual write began on a partition while a filler transaction was open on it: offsets differ
   * from there anyway, so end it now (its marker lands at the end), or target readers, the Router
   * among them, would see nothing after it.
   */
  private readonly fillersToEnd = new Set<Partition>();

  private async endFillerTransactions(): Promise<void> {
    for (const p of this.fillersToEnd) {
      if (p.filling) continue;
      this.fillersToEnd.delete(p);
      if (p.openFiller === "none") continue;
      try {
        if (p.openFiller === "ours") await p.fillers!.abortAnywhere();
        else p.fillers = await PartitionFillers.open(this.options.target, this.options.linkName, this.targetAdmin, p.topic, p.partition);
        p.openFiller = "none";
      } catch (err) {
        this.fail(p, err as Error);
      }
    }
  }

  private forwardHeld(p: Partition): void {
    const { message, size } = p.queue.shift();
    this.heldBytes -= size;
    p.lookaheadSince = 0;
    this.forward(p, message, this.checkSize(p, message));
  }

  /** Fillers, filler markers, or the held record committed with its marker, at the target's end. */
  private async writeInvisible(p: Partition, step: Exclude<Step, { action: "forward" | "wait" }>): Promise<void> {
    const o = this.options;
    p.filling = true;
    try {
      await this.drain(p); // nothing of ours in flight to the partition: the next slot is p.next
      if (p.mode !== "exact") return; // dual write began meanwhile: holes need no filling any more
      const at = p.next;
      if (step.action === "closeStale") {
        p.fillers = await PartitionFillers.open(o.target, o.linkName, this.targetAdmin, p.topic, p.partition, at);
        p.openFiller = "none";
        p.next = at + 1;
        return;
      }
      p.fillers ??= await PartitionFillers.open(o.target, o.linkName, this.targetAdmin, p.topic, p.partition);
      if (step.action === "commitHeld") {
        const { message, size } = p.queue.shift();
        this.heldBytes -= size;
        p.lookaheadSince = 0;
        this.checkSize(p, message);
        await p.fillers.commitRecord(message, at);
        p.next = at + 2;
        p.copiedRecords++;
        p.copiedBytes += size;
        return;
      }
      await p.fillers.addFillers(step.fillers, at);
      p.next = at + step.fillers;
      if (step.fillers > 0) p.openFiller = "ours";
      if (step.close) {
        await p.fillers.abort(p.next);
        p.next++;
        p.openFiller = "none";
      }
    } finally {
      p.filling = false;
      if (p.mode === "translate") this.fillersToEnd.add(p);
    }
  }

  /** Translate mode: copy the record unless the Router wrote it (or wait until that is known). */
  private handleTwoWay(p: Partition, m: ConsumedMessage, offset: number): Promise<void> | void {
    while (p.queue.length) this.releaseHeld(p);
    if (offset < p.next) return m.destroy();
    const two = p.two!;
    const verdict = two.classifySource(offset);
    if (verdict === "copy") {
      this.forward(p, m, this.checkSize(p, m));
      return;
    }
    if (verdict === "skip") {
      this.ledger.skipped(two.fetch, offset);
      p.next = offset + 1;
      return m.destroy();
    }
    return this.waitThenHandle(p, m, offset);
  }

  /** The record may be the Router's copy whose delivery report has not been served yet. */
  private async waitThenHandle(p: Partition, m: ConsumedMessage, offset: number): Promise<void> {
    const two = p.two!;
    for (;;) {
      this.router.poll();
      const verdict = two.classifySource(offset); // a "skip" verdict consumes its entry: act on it
      if (verdict === "skip") {
        this.ledger.skipped(two.fetch, offset);
        p.next = offset + 1;
        return m.destroy();
      }
      if (verdict === "copy") {
        this.forward(p, m, this.checkSize(p, m));
        return;
      }
      if (two.route.failed) throw new Error(`the Router of ${p.topic}[${p.partition}] stopped; cannot tell whether source offset ${offset} is its copy`);
      await Bun.sleep(1);
    }
  }

  /** A record held in exact mode when the partition switched to translate mode: copy it now. */
  private releaseHeld(p: Partition): void {
    const { message, offset, size } = p.queue.shift();
    this.heldBytes -= size;
    if (offset < p.next) return message.destroy();
    const verdict = p.two!.classifySource(offset);
    if (verdict === "skip") {
      this.ledger.skipped(p.two!.fetch, offset);
      p.next = offset + 1;
      message.destroy();
      return;
    }
    this.forward(p, message, size); // "wait" cannot be: the Router started after this record existed
  }

  /** Partition end (EOF) or a partition error. */
  private partitionEvent(p: Partition, m: ConsumedMessage): Promise<void> | void {
    const end = m.offset;
    const err = m.isPartitionEof ? null : m.error;
    const highWatermark = err ? null : eofHighWatermark(m);
    m.destroy();
    if (err) {
      if (!p.error) this.fail(p, err);
      return;
    }
    p.sourceEnd = end;
    if (p.error || p.retired) return;
    if (p.mode === "translate") {
      while (p.queue.length) this.releaseHeld(p);
      if (end > p.next) {
        // Only holes (markers, aborted records) before the end: nothing left to decide there.
        this.ledger.skipped(p.two!.fetch, end - 1);
        p.next = end;
      }
      return;
    }
    if (end < p.known) return;
    p.known = end;
    p.atEnd = true;
    p.openTransactionAtEnd = highWatermark !== null && highWatermark > end;
    return this.advance(p);
  }

  /** An error about a whole topic (deleted, not authorized) or about no topic at all. */
  private topicError(m: ConsumedMessage): void {
    const topic = m.topic;
    const err = m.error;
    m.destroy();
    if (!err) return;
    const affected = [...this.partitions.values()].filter((q) => q.topic === topic);
    if (affected.length) for (const q of affected) this.fail(q, err);
    else this.options.log(`source consumer: ${err.message}`);
  }

  /** The record's key and value bytes; throws (and frees it) when the target topic cannot take it. */
  private checkSize(p: Partition, m: ConsumedMessage): number {
    const bytes = m.valueLength + m.keyLength;
    if (bytes > p.maxRecordBytes) {
      const offset = m.offset;
      m.destroy();
      throw new KafkaError(
        ErrorCode.MSG_SIZE_TOO_LARGE,
        `record at offset ${offset} is ${bytes} bytes, more than the target topic's max.message.bytes (${p.maxRecordBytes}); raise it on the target topic and restart`,
      );
    }
    return bytes;
  }

  /** Zero-copy to the same target partition through the idempotent producer (the message is the producer's then). */
  private forward(p: Partition, m: ConsumedMessage, bytes = m.valueLength + m.keyLength): void {
    const offset = m.offset;
    if ((offset & 255) === 0 || p.copiedTimestamp === 0) p.copiedTimestamp = m.timestamp().timestamp; // a sample is enough for "lag ~N s"
    let id = 0;
    try {
      id = this.producer.forward(m);
      while (id === 0) {
        // librdkafka's queue is full: serve delivery reports until there is room.
        this.producer.poll();
        id = this.producer.forward(m);
      }
    } catch (err) {
      m.destroy(); // refused: still ours (a message never freed would block the consumer's close)
      throw err;
    }
    this.expected.set(id, { p, offset, bytes });
    p.inFlight++;
    this.inFlightBytes += bytes;
    p.next = offset + 1;
    if (p.two) this.ledger.sent(p.two.fetch, offset);
    p.lastOriginalAt = this.batchAt;
  }

  /** When the batch being handled was read (one clock read per batch, not per record). */
  private batchAt = 0;

  /** Milliseconds since a producer's record on the source was last copied for `topic` (or since this run started). */
  sinceLastSourceWrite(topic: string): number {
    let last = this.startedAt;
    for (const p of this.partitions.values()) if (p.topic === topic) last = Math.max(last, p.lastOriginalAt);
    return performance.now() - last;
  }

  private readonly startedAt = performance.now();

  /** Everything of `topic` the source had when last seen is copied and routed; nothing in flight. */
  drained(topic: string): boolean {
    for (const p of this.partitions.values()) {
      if (p.topic !== topic || p.error || p.retired) continue;
      if (!settled(p)) return false;
      if (p.two && !this.router.drained(p.two)) return false;
    }
    return this.ledger.pending() === 0;
  }

  /** Promote: stop copying and routing `topic` (the target is primary now). */
  retire(topic: string): void {
    for (const p of this.partitions.values()) {
      if (p.topic !== topic || p.retired) continue;
      p.retired = true;
      try {
        this.consumer.pause([{ topic, partition: p.partition }]);
      } catch {
        // closing
      }
      if (p.two) this.router.retire(p.two);
    }
  }

  private delivered(r: DeliveryReport): void {
    const e = this.expected.get(r.id);
    if (!e) return;
    this.expected.delete(r.id);
    const p = e.p;
    p.inFlight--;
    this.inFlightBytes -= e.bytes;
    if (r.error) {
      if (p.two) p.two.fetch.failed = true;
      return this.fail(p, r.error);
    }
    if (p.mode === "exact" && r.offset !== e.offset) {
      if (r.offset < e.offset) return this.fail(p, new KafkaError(ErrorCode.STATE, `source offset ${e.offset} landed at target offset ${r.offset}, below it; the target partition was recreated or truncated`));
      // A producer wrote to the target partition: records from e.offset on are not at equal offsets.
      const later = [...this.expected.values()].filter((x) => x.p === p).map((x) => x.offset).sort((a, b) => a - b);
      this.switchToTwoWay(p, e.offset, [e.offset, ...later]);
    }
    if (p.two) this.ledger.acknowledged(p.two, p.two.fetch, e.offset, r.offset);
    p.copiedRecords++;
    p.copiedBytes += e.bytes;
  }

  /** Waits until every record forwarded for `p` is acknowledged (before a transactional write). */
  private async drain(p: Partition): Promise<void> {
    while (p.inFlight > 0) {
      if (this.producer.poll() === 0) await Bun.sleep(1);
    }
    if (p.error) throw new Error(p.error);
  }

  /**
   * A new exact partition: the target's log starts at `start` too (align.ts), from target offset
   * `from` (0, or where an interrupted alignment got to). A start beyond link.prefixFillLimit
   * means translate mode (offsets: auto) or a stopped partition (exact).
   */
  private async align(p: Partition, start: number, from: number): Promise<void> {
    if (start > p.prefixFillLimit) {
      const why = `aligning the start needs ${start} filler offsets, more than link.prefixFillLimit (${p.prefixFillLimit})`;
      if (p.setting === "exact") throw new KafkaError(ErrorCode.STATE, `${why}; raise the limit or set offsets: auto`);
      return this.beginTranslated(p, start, from, why);
    }
    await alignStart(this.producer, this.policy, p.topic, p.partition, from, start);
    p.next = p.known = start;
    if (start > 0) this.options.log(`${p.topic}[${p.partition}]: aligned, log start offset ${start} on both clusters`);
  }

  private fail(p: Partition, err: Error): void {
    if (p.error) return;
    p.error = err.message;
    this.options.log(`${p.topic}[${p.partition}]: stopped: ${err.message}`);
    this.heldBytes -= p.queue.bytes;
    p.queue.destroyAll();
    this.lookingAhead.delete(p);
    try {
      this.consumer.pause([{ topic: p.topic, partition: p.partition }]);
    } catch {
      // the consumer may be closing
    }
  }

  /**
   * Stops copying: records still held (their successor unknown) are dropped and will be read
   * again on restart; forwarded ones are flushed.
   */
  async close(): Promise<void> {
    while (this.refreshingEnds || this.watchingTargets) await Bun.sleep(5); // they use the admin clients freed below
    for (const p of this.partitions.values()) p.queue.destroyAll();
    this.heldBytes = 0;
    await this.producer.close();
    await this.router.close();
    await this.ledger.flush(true);
    for (const p of this.partitions.values()) await p.fillers?.close();
    this.consumer.close();
    this.sourceAdmin.close();
    this.targetAdmin.close();
    this.txnClient?.close();
  }
}

function translateStartKey(p: { topic: string; partition: number }): string {
  return `translate.targetStart.${p.topic}.${p.partition}`;
}

/** Offsets below its value are identical on both clusters (set when dual write began on an exact copy). */
export function identicalBelowKey(p: { topic: string; partition: number }): string {
  return `translate.identicalBelow.${p.topic}.${p.partition}`;
}

/** Exact mode, nothing held or in flight: the target's end offset must be `next`. */
function isIdleExact(p: Partition): boolean {
  return p.mode === "exact" && !p.error && p.queue.length === 0 && p.inFlight === 0 && !p.filling;
}

/** Everything the source had when last seen is written, nothing in flight, no filler transaction open. */
function settled(p: Partition): boolean {
  return p.queue.length === 0 && p.inFlight === 0 && p.next >= p.sourceEnd && p.openFiller === "none" && !p.filling;
}


/**
 * The source's high watermark when the partition end was reached, from librdkafka's end-of-partition
 * event ("... reached end of partition at offset N (HighwaterMark H)"); null when not given. Above
 * the end it means a transaction is open there (exact-plan.ts): reading it is an optimisation, and
 * a librdkafka that words the event differently only makes klink wait for a later hole instead.
 */
function eofHighWatermark(m: ConsumedMessage): number | null {
  const found = /HighwaterMark (\d+)/.exec(m.error?.message ?? "");
  return found ? Number(found[1]) : null;
}
