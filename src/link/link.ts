/**
 * A running link: every linked partition (partition/partition.ts), the Fetcher (source → target),
 * the Router (target → source, in dual write), the Ledger their bookkeeping shares, and the
 * background watchers. It decides where each partition starts (partition-start.ts), moves
 * partitions to translate mode when dual write begins, and answers the lifecycle's questions
 * (drained? where does a group resume?).
 *
 * To follow one record from source to target, read fetcher.ts; this file is the frame around it.
 */
import { Admin } from "../rdkafka/index.ts";
import { targetIsPrimary, type TopicLifecycle } from "../state/store.ts";
import type { StartPosition } from "../config/types.ts";
import { provisionTopic, describeSourceTopic, targetMaxMessageBytes } from "./provision.ts";
import { CleanupPolicySwitch } from "./align.ts";
import { Ledger, Lanes } from "./ledger.ts";
import { Router } from "./router.ts";
import { reconcile } from "./reconcile.ts";
import { settleReplication } from "./settle.ts";
import { Fetcher, type Assignment } from "./fetcher.ts";
import { isWaitTooLong, RETRY_STOPPED_MS } from "./interrupted.ts";
import { Watchers } from "./watchers.ts";
import { ConfigSync } from "./config-sync.ts";
import { GroupOffsetSync } from "./group-offset-sync.ts";
import { processMemoryGuard, describeMemoryAction, type MemoryGuard } from "./memory-guard.ts";
import { PartitionStarter } from "./partition-start.ts";
import { readStartFacts } from "./start-facts.ts";
import { Reachability } from "./reachability.ts";
import { LinkedPartition } from "./partition/partition.ts";
import { partitionProgress, type PartitionProgress } from "./partition/progress.ts";
import { stateKey, storedPartitions, translateWrites, type StoredPartition } from "./partition/state.ts";
import { checkClusterPair } from "./cluster-pair.ts";
import { inParallel } from "./in-parallel.ts";
import { InterruptedTopics } from "./interrupted-topics.ts";
import { groupOffsetOnTarget, groupOffsetOnSource, type GroupOffsetContext } from "./group-offsets.ts";
import type { LinkedTopic } from "./linked-topic.ts";
import { NewTopics } from "./new-topics.ts";
import type { LinkOptions } from "./link-options.ts";
import { BetweenBatches } from "./between-batches.ts";
import { Lending } from "./lending.ts";

/** How many topics are provisioned, aligned and resumed at once when klink starts. */
const TOPICS_STARTED_AT_ONCE = 16;

export class Link {
  private readonly partitions = new Map<string, LinkedPartition>();
  private readonly ledger: Ledger;
  private readonly topicStates = new Map<string, TopicLifecycle>();
  private sourceAdmin!: Admin;
  private targetAdmin!: Admin;
  private router!: Router;
  private fetcher!: Fetcher;
  private policy!: CleanupPolicySwitch;
  private starter!: PartitionStarter;
  private watchers!: Watchers;
  private configSync!: ConfigSync;
  private groupOffsetSync: GroupOffsetSync | null = null;
  private newTopics: NewTopics | null = null;
  private reach: Reachability | null = null;
  private stopping = false;
  private readonly startedAt = performance.now();
  /** `klink resume`, lending and taking back: served by the run loop between batches. */
  private readonly between = new BetweenBatches();
  private readonly memory: MemoryGuard;
  private readonly topicsToStart: InterruptedTopics;
  private lastRetryLook = 0;
  /** link.spread: the partitions other workers copy (lending.ts). */
  readonly lending: Lending;

  constructor(private readonly options: LinkOptions) {
    this.ledger = new Ledger(options.store);
    this.memory = processMemoryGuard(options.memoryBytes);
    this.topicsToStart = new InterruptedTopics(options.log);
    this.lending = new Lending({
      get: (t, p) => this.get(t, p), running: () => this.partitions.values(), topicState: (t) => this.topicState(t), log: options.log,
      letGo: (parts) => this.release(parts, true), restart: (topic) => this.restartTopic(topic),
    }, this.between);
  }

  private key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  private get(topic: string, partition: number): LinkedPartition | undefined {
    return this.partitions.get(this.key(topic, partition));
  }

  /** Provisions target topics, aligns and resumes partitions, and assigns the source consumer. */
  async start(): Promise<void> {
    const o = this.options;
    this.sourceAdmin = new Admin(o.source.config, o.source.options);
    this.targetAdmin = new Admin(o.target.config, o.target.options);
    this.policy = new CleanupPolicySwitch(this.targetAdmin, o.store, o.log);
    this.reach = new Reachability(o.source, o.target);
    this.router = new Router({
      source: o.source, target: o.target, ledger: this.ledger, maxInFlightBytes: o.maxInFlightBytes, memoryBytes: o.memoryBytes,
      pollFetcher: () => this.fetcher.poll(), mayWrite: o.standby?.mayWrite, messageTimeoutMs: o.standby?.messageTimeoutMs,
      onFirstRouted: (p, offset) => this.enterDualWrite(p.topic, `first record written straight to the target: ${p.topic}[${p.partition}] offset ${offset}`),
      onFailed: (p, err) => {
        const fp = this.get(p.topic, p.partition);
        if (fp) this.fetcher.fail(fp, new Error(`routing target → source: ${err.message}`));
      },
    });
    this.fetcher = new Fetcher({
      linkName: o.linkName, source: o.source, target: o.target, targetAdmin: this.targetAdmin, ledger: this.ledger, router: this.router,
      maxInFlightBytes: o.maxInFlightBytes, memoryBytes: o.memoryBytes, partitions: () => this.partitions.values(), log: o.log,
      onDualWrite: (p, at, inFlight, seen) => this.dualWrite(p, at, inFlight, seen), messageTimeoutMs: o.standby?.messageTimeoutMs,
    });
    this.starter = new PartitionStarter({
      linkName: o.linkName, source: o.source, target: o.target, sourceAdmin: this.sourceAdmin, targetAdmin: this.targetAdmin, store: o.store, producer: this.fetcher.producer,
      policy: this.policy, log: o.log,
      storeTranslate: (p, from, targetFrom, why, identicalBelow) => o.store.write(translateWrites(p.topic, p.partition, from, targetFrom, identicalBelow, why)),
      toTranslate: (p, from, targetFrom, why, identicalBelow) => this.toTranslate(p, from, targetFrom, why, identicalBelow),
      resumeTranslated: (p, stored) => this.resumeTranslated(p, stored),
    });
    this.watchers = new Watchers({
      sourceAdmin: this.sourceAdmin, targetAdmin: this.targetAdmin, topics: () => o.topics.map((t) => t.name),
      partitions: () => this.partitions.values(), get: (t, p) => this.get(t, p), fail: (p, err) => this.fetcher.fail(p, err),
      onDualWrite: (p, end) => this.dualWrite(p, p.next, [], `the target's end offset ${end} is past the next offset ${p.next} while the partition was idle`),
      linkNewPartitions: (topic) => this.linkNewPartitions(topic),
    });
    this.configSync = new ConfigSync({
      sourceAdmin: this.sourceAdmin, targetAdmin: this.targetAdmin, store: o.store, topics: o.topics,
      promoted: (topic) => targetIsPrimary(this.topicState(topic)), log: o.log,
    });
    if (o.groupOffsetSync) {
      this.groupOffsetSync = new GroupOffsetSync({
        sourceAdmin: this.sourceAdmin, targetAdmin: this.targetAdmin, groups: o.groupOffsetSync.groups, linkedTopics: () => new Set(o.topics.map((t) => t.name)),
        translate: (topic, partition, offset) => this.groupOffset(topic, partition, offset), log: o.log,
      });
    }
    if (o.newTopics) this.newTopics = new NewTopics({ ...o.newTopics, sourceAdmin: this.sourceAdmin, topics: o.topics, log: o.log, link: (t) => this.linkAddedTopic(t) });
    await checkClusterPair(this.options.store, this.sourceAdmin, this.targetAdmin);
    await this.policy.restoreLeftovers(o.topics.map((t) => t.name));
    for (const t of await o.store.topics()) this.topicStates.set(t.topic, t.state);
    // Topics start side by side: each waits mostly on the clusters' answers (bench/partitions.ts).
    const assignments = await inParallel(o.topics, TOPICS_STARTED_AT_ONCE, (t) => this.startTopic(t));
    this.fetcher.assign(assignments.flat(), false);
  }

  /** Links a topic at start; a cluster that does not answer in time interrupts only that topic (interrupted-topics.ts). */
  private startTopic(t: LinkedTopic): Promise<Assignment> {
    return this.topicsToStart.start(t.name, () => this.linkTopic(t, t.start));
  }

  /**
   * Provisions the target topic and starts every partition of `t` not linked yet in this run;
   * returns where the consumer starts in each.
   */
  private async linkTopic(t: LinkedTopic, start: StartPosition): Promise<Assignment> {
    const o = this.options;
    const provisioned = await provisionTopic(this.sourceAdmin, this.targetAdmin, t.name, t.create, (from) => this.markCreated(t.name, from));
    if (provisioned.action !== "exists") o.log(`${t.name}: target topic ${provisioned.action} (${provisioned.partitions} partitions)`);
    const desc = await describeSourceTopic(this.sourceAdmin, t.name);
    const ids = desc.partitions.map((p) => p.partition).filter((id) => !this.get(t.name, id) && !this.lending.isLent(t.name, id));
    if (ids.length === 0) return [];
    const stored = await storedPartitions(o.store, t.name);
    const resumed = ids.filter((id) => stored.has(id));
    if (resumed.length) {
      // A killed predecessor's last writes must be visible before the ends are read.
      await Promise.all([settleReplication(this.targetAdmin, t.name, resumed, o.log), settleReplication(this.sourceAdmin, t.name, resumed, o.log)]);
    }
    const facts = await readStartFacts(this.sourceAdmin, this.targetAdmin, t.name, ids, start);
    const maxBytes = await targetMaxMessageBytes(this.targetAdmin, t.name);
    // One switch of a compact-only topic's cleanup.policy for all partitions that align now.
    this.policy.hold(t.name);
    const started = await Promise.all(ids.map(async (id) => {
      const f = facts.get(id)!;
      const s = stored.get(id);
      if (s) f.stored = { mode: s.mode, sinceOffset: s.sinceOffset };
      const p = new LinkedPartition(t.name, id, t.offsets, t.prefixFillLimit, maxBytes, f.target!.end, f.sourceEnd);
      this.partitions.set(this.key(t.name, id), p);
      try {
        await this.starter.start(p, f, s, { start, offsets: t.offsets, prefixFillLimit: t.prefixFillLimit });
      } catch (err) {
        // A cluster that did not answer in time: tried again later (retryInterrupted), as Fetcher.fail does.
        const retry = isWaitTooLong(err as Error);
        p.stop((err as Error).message, retry ? performance.now() + RETRY_STOPPED_MS : null);
      }
      return p;
    })).finally(() => this.policy.release(t.name));
    const assignment: Assignment = [];
    for (const p of started) {
      if (p.error) o.log(`${t.name}[${p.partition}]: not copied: ${p.error}${p.retryAt !== null ? `; trying again in ${RETRY_STOPPED_MS / 1000} s` : ""}`);
      else assignment.push({ topic: t.name, partition: p.partition, offset: p.next });
    }
    return assignment;
  }

  /** Stores, before klink creates them, that target partitions `from`.. of `topic` are its own (partition-start.ts). */
  private async markCreated(topic: string, from: number): Promise<void> {
    const known = await this.options.store.get(stateKey.createdFrom(topic));
    if (known === null || Number(known) > from) await this.options.store.write([{ put: stateKey.createdFrom(topic), value: String(from) }]);
  }

  /** Partitions added to a source topic: created on the target, copied from their first record (all of a new partition is new, whatever link.start says). */
  private async linkNewPartitions(topic: string): Promise<number> {
    if (this.topicsToStart.has(topic)) return 0; // not started yet: it starts where link.start says
    const t = this.options.topics.find((x) => x.name === topic)!;
    const added = await this.linkTopic(t, { kind: "earliest" });
    if (added.length === 0) return 0;
    this.assignAdded(topic, added);
    const count = [...this.partitions.values()].filter((p) => p.topic === topic).length;
    this.options.log(`${topic}: the source grew to ${count} partitions; copying ${added.map((a) => a.partition).join(", ")} too`);
    return added.length;
  }

  /** A topic created on the source after start (new-topics.ts): all of it is new, as an added partition is. */
  private async linkAddedTopic(t: LinkedTopic): Promise<void> {
    this.assignAdded(t.name, await this.linkTopic(t, { kind: "earliest" }));
  }

  /** Partitions started while copying join the consumer's assignment. */
  private assignAdded(topic: string, assignment: Assignment): void {
    this.fetcher.producer.refreshMetadata(topic); // the target producer must know the partitions before records arrive
    this.fetcher.assign(assignment, true);
  }

  // ---------------------------------------------------------------------------------------------
  // translate mode and dual write

  /** Translate mode from source offset `from` on, appended after target offset `targetFrom` and mapped. */
  private async toTranslate(p: LinkedPartition, from: number, targetFrom: number, why: string, identicalBelow: boolean): Promise<void> {
    await this.options.store.write(translateWrites(p.topic, p.partition, from, targetFrom, identicalBelow, why));
    this.startLanes(p, from, targetFrom);
    this.options.log(`${p.topic}[${p.partition}]: translate mode from source offset ${from} (target offset ${targetFrom}): ${why}`);
  }

  /** The lanes of a translate-mode partition (the bookkeeping of both directions), shared with its Router. */
  private startLanes(p: LinkedPartition, fetchFrom: number, routeFrom: number, sourceCopied: number[] = [], targetCopied: number[] = []): Lanes {
    const lanes = new Lanes(p.topic, p.partition, fetchFrom, routeFrom);
    for (const o of sourceCopied) lanes.route.wrote.push(o);
    for (const o of targetCopied) lanes.fetch.wrote.push(o);
    lanes.route.lastWritten = sourceCopied.at(-1) ?? -1;
    lanes.fetch.lastWritten = targetCopied.at(-1) ?? -1;
    p.toTranslate(lanes, fetchFrom);
    this.ledger.add(lanes);
    this.router.add(lanes);
    return lanes;
  }

  /**
   * A producer wrote to the target partition at target offset `at` (seen in a delivery report,
   * or in the target's end offset while the Fetcher was idle): from there on offsets differ, and
   * both directions are kept in the offset map. Synchronous: it runs inside a delivery report; the
   * switch is stored with the ledger's next flush.
   */
  private dualWrite(p: LinkedPartition, at: number, inFlight: number[], seen: string): void {
    const why = `records written straight to the target from offset ${at} (dual write); offsets below ${at} are identical`;
    for (const change of translateWrites(p.topic, p.partition, at, at, true, why)) this.ledger.note(change);
    const lanes = this.startLanes(p, p.next, at);
    for (const o of inFlight) lanes.fetch.inFlight.push(o);
    this.fetcher.translated(p);
    this.enterDualWrite(p.topic, `first record written straight to the target: ${p.topic}[${p.partition}] offset ${at}`);
    this.options.log(`${p.topic}[${p.partition}]: ${why} (${seen}); routing target → source from there`);
  }

  /**
   * Resumes a translate-mode partition at its stored positions, after pairing by content the
   * copies whose delivery reports a stopped klink never stored (reconcile.ts).
   */
  private async resumeTranslated(p: LinkedPartition, stored: StoredPartition): Promise<void> {
    const store = this.options.store;
    const r = await reconcile(store, this.options.source, this.options.target, p.topic, p.partition, stored.fetchPosition, stored.routePosition);
    this.startLanes(p, stored.fetchPosition, stored.routePosition, r.sourceCopied, r.targetCopied);
    if (r.found.length) this.options.log(`${p.topic}[${p.partition}]: ${r.found.length} records copied before the last stop mapped again`);
    if (await store.last("target", p.topic, p.partition, "target")) this.enterDualWrite(p.topic, "resumed");
  }

  /** A topic's lifecycle state: the one copy in a running klink (stored as it changes). */
  topicState(topic: string): TopicLifecycle {
    return this.topicStates.get(topic) ?? "mirroring";
  }

  /** A lifecycle change made by the Lifecycle (handoff, promote, rollback); it stores it itself. */
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

  // ---------------------------------------------------------------------------------------------
  // running

  /** Copies (and routes) until `stop()` is called, or (with `untilCaughtUp`) until `caughtUp()`. */
  async run(untilCaughtUp = false): Promise<void> {
    const routing = this.router.run();
    try {
      let idle = 0;
      while (!this.stopping && (this.options.standby?.mayWrite() ?? true)) { // standby: not one batch more once the lease ended
        this.guardMemory();
        const done = await this.fetcher.step();
        if (done === "full") continue;
        await this.ledger.flush(done === "idle");
        await this.watchers.tick();
        this.configSync.tick();
        this.groupOffsetSync?.tick();
        await this.newTopics?.tick();
        this.reach!.tick();
        await this.between.serve();
        await this.retryInterrupted();
        if (done === "read") {
          idle = 0;
          continue;
        }
        if (untilCaughtUp && this.caughtUp()) break;
        await Bun.sleep(Math.min(++idle, 10));
      }
    } finally {
      this.between.stopped();
      this.router.stop();
      await routing;
    }
  }

  /**
   * Starts the stopped partitions of `topic` (all, or `partition`) again, as a restart of klink
   * would: from the stored state and the target's end, with the target topic's settings read
   * again. Served by the run loop between batches, so nothing else copies meanwhile. A partition in
   * translate mode starts again from its stored lane positions, as after a restart.
   */
  resume(topic: string, partition: number | null): Promise<string[]> {
    return this.between.ask(() => this.restartStopped(topic, partition), new Error("klink is stopping; the partitions resume when it runs again"));
  }

  /** Exact partitions a cluster interrupted (Fetcher.fail) start again once their time has come (looked at every second: 10,000 partitions 100 times a second cost a tenth of a core). */
  private async retryInterrupted(): Promise<void> {
    const now = performance.now();
    if (now - this.lastRetryLook < 1_000) return;
    this.lastRetryLook = now;
    const due = this.stopping ? [] : this.topicsToStart.due(now).map((name) => this.options.topics.find((x) => x.name === name)!);
    const started = await inParallel(due, TOPICS_STARTED_AT_ONCE, (t) => this.startTopic(t));
    for (const assignment of started.filter((a) => a.length > 0)) {
      const topic = assignment[0]!.topic;
      this.assignAdded(topic, assignment);
      this.options.log(`${topic}: started; copying ${assignment.length} partitions`);
    }
    for (const p of [...this.partitions.values()]) {
      if (p.state !== "stopped" || p.retryAt === null || p.retryAt > now || this.stopping) continue;
      await this.restartStopped(p.topic, p.partition);
    }
  }

  private async restartStopped(topic: string, partition: number | null): Promise<string[]> {
    const which = partition === null ? topic : `${topic}[${partition}]`;
    const stopped = [...this.partitions.values()].filter((p) => p.topic === topic && p.state === "stopped" && (partition === null || p.partition === partition));
    if (stopped.length === 0) return [`${which}: no stopped partition`];
    const lines: string[] = [];
    await this.release(stopped);
    await this.restartTopic(topic);
    for (const old of stopped) {
      const p = this.get(topic, old.partition)!;
      const line = !p.error ? `${topic}[${p.partition}]: resumed at source offset ${p.next}`
        : p.retryAt !== null ? `${topic}[${p.partition}]: still interrupted: ${p.error}; trying again in ${RETRY_STOPPED_MS / 1000} s`
        : `${topic}[${p.partition}]: still stopped: ${p.error}`;
      this.options.log(line);
      lines.push(line);
    }
    return lines;
  }

  /** Starts the partitions of `topic` that are neither copied nor lent, as a restart of klink would resume them. */
  private async restartTopic(topic: string): Promise<Assignment> {
    const t = this.options.topics.find((x) => x.name === topic);
    if (!t) return [];
    const assignment = await this.linkTopic(t, t.start);
    this.assignAdded(topic, assignment);
    this.fetcher.unpause(assignment); // librdkafka keeps the pause of their stop across assignments
    return assignment;
  }

  /**
   * Ends copying `parts` as a stop of klink would: in translate mode the lanes end (positions
   * stored, copies acknowledged after that matched by content when the partition starts again:
   * reconcile.ts), what is in flight is acknowledged, and the partitions leave this Link.
   */
  private async release(parts: LinkedPartition[], dropHeld = false): Promise<void> {
    if (dropHeld) for (const p of parts) this.fetcher.letGo(p); // lent: what they hold is read again by the next owner
    const lanes = parts.flatMap((p) => (p.lanes ? [p.lanes] : []));
    for (const l of lanes) l.fetch.failed = true;
    await Promise.all(lanes.map((l) => this.router.release(l)));
    await this.fetcher.release(parts);
    await this.ledger.flush(true);
    for (const l of lanes) this.ledger.remove(l);
    for (const p of parts) this.partitions.delete(this.key(p.topic, p.partition));
  }

  /** limits.memory: fetching pauses or resumes as memory-guard.ts decides. */
  private guardMemory(): void {
    const change = this.memory.check();
    if (!change) return;
    this.fetcher.fetching(change.action === "resume");
    this.options.log(describeMemoryAction(change, this.memory));
  }

  stop(): void {
    this.stopping = true;
    this.router?.stop();
  }

  /** Stops copying: held records are dropped (read again on restart), forwarded ones flushed, the state stored. */
  async close(): Promise<void> {
    // Also after a start that failed part way: close what was made.
    await this.watchers?.idle(); // they use the admin clients closed below
    await this.configSync?.idle();
    await this.groupOffsetSync?.idle();
    await this.newTopics?.idle();
    await this.reach?.close();
    await this.fetcher?.close(this.partitions.values());
    await this.router?.close();
    await this.ledger.flush(true);
    this.starter?.close();
    this.sourceAdmin?.close();
    this.targetAdmin?.close();
    this.between.close(); // lending asked after the loop ended: everything was flushed or dropped above
  }

  // ---------------------------------------------------------------------------------------------
  // questions of the lifecycle and of status

  progress(): PartitionProgress[] {
    return [...this.partitions.values()].map((p) => partitionProgress(p, this.topicState(p.topic), p.lanes ? this.router.progress(p.lanes) : undefined));
  }

  /** Whether each cluster answered klink's last ask (reachability.ts). */
  clusters(): ReturnType<Reachability["snapshot"]> | null {
    return this.reach?.snapshot() ?? null;
  }

  /** librdkafka's out-queue of each producer: target (copies) and source (the Router's). */
  producerQueues(): Array<{ producer: string; messages: number }> {
    return [{ producer: "target", messages: this.fetcher.producer.outstanding }, { producer: "source", messages: this.router.queuedMessages }];
  }

  /** Per linked topic, milliseconds since a producer's record on the source was last copied (or since this run started); one pass for all topics. */
  sinceLastSourceWrites(): Map<string, number> {
    const last = new Map(this.options.topics.map((t) => [t.name, this.startedAt]));
    for (const p of this.partitions.values()) if (p.lastOriginalAt > last.get(p.topic)!) last.set(p.topic, p.lastOriginalAt);
    for (const [topic, at] of last) {
      const seen = this.lending.seenSince(topic); // link.spread: writes copied by other workers are not seen here
      if (seen !== null && seen > at) last.set(topic, seen);
    }
    const now = performance.now();
    return new Map([...last].map(([topic, at]) => [topic, now - at]));
  }

  /** True when every partition has copied up to the source end seen last, with nothing in flight. */
  caughtUp(): boolean {
    if (this.topicsToStart.size || !this.lending.caughtUp()) return false;
    for (const p of this.partitions.values()) if ((p.copying && !p.settled) || p.retryAt !== null) return false;
    return this.ledger.pending() === 0 && this.router.caughtUp();
  }

  /** Everything of `topic` the source had when last seen is copied and routed; nothing in flight. */
  drained(topic: string): boolean {
    if (this.lending.holdsBack(topic)) return false; // copied elsewhere: it comes back here first
    for (const p of this.partitions.values()) {
      if (p.topic !== topic || !p.copying) continue;
      if (!p.settled) return false;
      if (p.lanes && !this.router.drained(p.lanes)) return false;
    }
    return this.ledger.pending() === 0;
  }

  /** Promote: stop copying and routing `topic` (the target is primary now). */
  retire(topic: string): void {
    for (const p of this.partitions.values()) {
      if (p.topic !== topic) continue;
      const lanes = p.lanes;
      this.fetcher.retire(p);
      if (lanes) this.router.retire(lanes);
    }
  }

  /** Where a group committed at source offset `offset` resumes on the target (group-offsets.ts); null until it can. */
  groupOffset(topic: string, partition: number, offset: number): Promise<number | null> {
    if (this.lending.holdsBack(topic)) return Promise.resolve(null); // copied elsewhere: it comes back here first
    return groupOffsetOnTarget(this.groupOffsetContext(topic, partition), offset);
  }

  /** Rollback: where a group committed at target offset `offset` resumes on the source; null until it can. */
  groupOffsetToSource(topic: string, partition: number, offset: number): Promise<number | null> {
    if (this.lending.holdsBack(topic)) return Promise.resolve(null);
    return groupOffsetOnSource(this.groupOffsetContext(topic, partition), offset);
  }

  private groupOffsetContext(topic: string, partition: number): GroupOffsetContext {
    return { topic, partition, p: this.get(topic, partition), ledger: this.ledger, store: this.options.store, targetAdmin: this.targetAdmin };
  }
}
