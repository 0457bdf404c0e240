/**
 * What the Link looks at in the background, between batches, without holding the data path up:
 * - every 5 s each source partition's last stable offset, stopped ones too (the lag in status;
 *   a deleted source topic stops its partitions);
 * - every 2 s the target end of idle exact partitions: one that moved past the Fetcher's next
 *   offset was written to by a producer (a busy partition shows it in its delivery reports);
 * - every 10 s partitions added to a source topic, which are then created on the target and copied.
 */
import { ErrorCode, KafkaError, OffsetSpec, type Admin, type ListOffsetsResult, type TopicDescription } from "../rdkafka/index.ts";
import type { LinkedPartition } from "./partition/partition.ts";

export interface WatchContext {
  sourceAdmin: Admin;
  targetAdmin: Admin;
  /** The linked topics' names (topics created on the source after start join: new-topics.ts). */
  topics: () => string[];
  partitions: () => Iterable<LinkedPartition>;
  get: (topic: string, partition: number) => LinkedPartition | undefined;
  fail: (p: LinkedPartition, err: Error) => void;
  /** A producer wrote to idle exact partition `p` at the target's end. */
  onDualWrite: (p: LinkedPartition, targetEnd: number) => void;
  /** New source partitions of `topic`: links them (a promise of how many). */
  linkNewPartitions: (topic: string) => Promise<number>;
}

export class Watchers {
  private lastEndsRefresh = 0;
  private refreshingEnds = false;
  private lastTargetWatch = performance.now();
  private watchingTargets = false;
  private lastGrowthCheck = performance.now();
  private lookingForGrowth = false;
  private listed: { at: number; names: Set<string> } | null = null;
  /** Topics found with partitions not linked yet. */
  private readonly grown: string[] = [];

  constructor(private readonly c: WatchContext) {}

  /** Starts the background looks that are due; the partitions-added one is awaited (it assigns). */
  async tick(): Promise<void> {
    this.refreshSourceEnds();
    this.watchTargetEnds();
    await this.linkNewPartitions();
  }

  /** The watchers' admin calls have ended (before the admin clients close). */
  async idle(): Promise<void> {
    while (this.refreshingEnds || this.watchingTargets || this.lookingForGrowth) await Bun.sleep(5);
  }

  private byTopic(parts: LinkedPartition[]): Map<string, LinkedPartition[]> {
    const out = new Map<string, LinkedPartition[]>();
    for (const p of parts) {
      const list = out.get(p.topic);
      if (list) list.push(p);
      else out.set(p.topic, [p]);
    }
    return out;
  }

  /**
   * End offsets of many topics' partitions: one request for all (a link of 1,000 topics asked 1,000
   * times every round), or, when that fails, one per topic, so that one topic's error (deleted,
   * not authorized) is that topic's only: `failed` gets it.
   */
  private async endOffsets(admin: Admin, parts: LinkedPartition[], readCommitted: boolean, failed: (topic: string, parts: LinkedPartition[], err: unknown) => Promise<void> | void): Promise<ListOffsetsResult[]> {
    const ask = (ps: LinkedPartition[]) => admin.listOffsets(ps.map((p) => ({ topic: p.topic, partition: p.partition, offset: OffsetSpec.LATEST })), readCommitted);
    try {
      return await ask(parts);
    } catch {
      const ends = await Promise.all([...this.byTopic(parts)].map(([topic, ps]) => ask(ps).catch(async (err) => (await failed(topic, ps, err), []))));
      return ends.flat();
    }
  }

  private refreshSourceEnds(): void {
    if (this.refreshingEnds || performance.now() - this.lastEndsRefresh < 5_000) return;
    this.refreshingEnds = true;
    this.lastEndsRefresh = performance.now();
    const c = this.c;
    // Stopped partitions too: their lag keeps growing while producers write, and status shows it.
    const parts = [...c.partitions()].filter((p) => p.copying || p.state === "stopped");
    this.endOffsets(c.sourceAdmin, parts, true, (topic, ps, err) => this.checkDeleted(topic, ps, err))
      .then((ends) => {
        for (const e of ends) {
          const p = c.get(e.topic, e.partition);
          if (p && e.offset > p.sourceEnd) p.sourceEnd = e.offset;
        }
      })
      .catch(() => {}) // a refresh that fails (a broker failing over) is simply tried again later
      .finally(() => (this.refreshingEnds = false));
  }

  /**
   * A source topic whose end offsets cannot be read: if it is gone, its partitions stop. Once the
   * admin client's metadata knows the topic is gone, ListOffsets answers "no leader" instead of
   * "unknown topic" (seen when the deletion raced a round): the topic list decides then too.
   */
  private checkDeleted(topic: string, parts: LinkedPartition[], err: unknown): void {
    const codes = ["UNKNOWN_TOPIC_OR_PART", "_UNKNOWN_TOPIC", "_NOENT", "LEADER_NOT_AVAILABLE"];
    if (!(err instanceof KafkaError && codes.includes(err.codeName))) return;
    let gone = false;
    try {
      gone = !this.sourceTopics().has(topic);
    } catch {
      // the source is unreachable right now: ask again next time
    }
    // as "unknown topic", whatever the answer was: a stop, not an interruption tried again
    if (gone) for (const p of parts) this.c.fail(p, new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PART, `the source topic ${topic} no longer exists (deleted?): its partitions stop here`));
  }

  /** The source's topic names, listed once for all the topics of a round that failed together (listTopics blocks the JS thread). */
  private sourceTopics(): Set<string> {
    if (!this.listed || performance.now() - this.listed.at > 2_000) {
      this.listed = { at: performance.now(), names: new Set(this.c.sourceAdmin.listTopics().map((t) => t.name)) };
    }
    return this.listed.names;
  }

  private watchTargetEnds(): void {
    if (this.watchingTargets || performance.now() - this.lastTargetWatch < 2_000) return;
    const idle = [...this.c.partitions()].filter((p) => p.idleExact);
    if (idle.length === 0) return;
    this.watchingTargets = true;
    this.lastTargetWatch = performance.now();
    const c = this.c;
    const seen = new Map(idle.map((p) => [p, p.next]));
    this.endOffsets(c.targetAdmin, idle, false, () => {})
      .then((ends) => {
        for (const e of ends) {
          const p = c.get(e.topic, e.partition);
          if (!p || !p.idleExact || p.next !== seen.get(p)) continue; // it copied meanwhile: its reports will tell
          if (e.offset > p.next) c.onDualWrite(p, e.offset);
        }
      })
      .catch(() => {}) // tried again in 2 s
      .finally(() => (this.watchingTargets = false));
  }

  /**
   * Topics that grew are looked for in the background (one request for all topics); the loop then
   * links their new partitions, which assigns them to the consumer.
   */
  private async linkNewPartitions(): Promise<void> {
    for (let topic = this.grown.shift(); topic; topic = this.grown.shift()) await this.c.linkNewPartitions(topic).catch(() => {}); // looked for again next round
    if (this.lookingForGrowth || performance.now() - this.lastGrowthCheck < 10_000) return;
    this.lookingForGrowth = true;
    this.lastGrowthCheck = performance.now();
    this.findGrownTopics()
      .then((topics) => this.grown.push(...topics))
      .finally(() => (this.lookingForGrowth = false));
  }

  private async findGrownTopics(): Promise<string[]> {
    const topics = this.c.topics();
    const grew = (d: TopicDescription) => d.partitions.some((p) => !this.c.get(d.name, p.partition));
    try {
      return (await this.c.sourceAdmin.describeTopics(topics)).filter(grew).map((d) => d.name);
    } catch {
      // one topic unreachable or gone (refreshSourceEnds reports that): ask per topic
      const found = await Promise.all(topics.map((t) => this.c.sourceAdmin.describeTopics([t]).then(([d]) => (grew(d!) ? [t] : []), () => [])));
      return found.flat();
    }
  }
}
