/**
 * The partitions the runner's Link lends and takes back, and which of its partitions must stay
 * with it: lent to other workers (link.spread, docs/workers.md "Spreading partitions"), or to this
 * klink's own fast lane (link.fastLane, docs/fast-lane.md). Lending and taking back run between
 * two batches of the run loop (between-batches.ts).
 */
import type { TopicLifecycle } from "../state/store.ts";
import type { LinkedPartition } from "./partition/partition.ts";
import type { Assignment } from "./fetcher.ts";
import type { BetweenBatches } from "./between-batches.ts";

type Part = { topic: string; partition: number };

/** What of the Link lending needs (link.ts). */
export interface LendingHost {
  get(topic: string, partition: number): LinkedPartition | undefined;
  running(): Iterable<LinkedPartition>;
  topicState(topic: string): TopicLifecycle;
  /** Ends copying these partitions as a stop of klink would (held records dropped, in-flight ones acknowledged). */
  letGo(parts: LinkedPartition[]): Promise<void>;
  /** Starts the partitions of `topic` that are neither copied nor lent, as a restart would resume them. */
  restart(topic: string): Promise<Assignment>;
  log: (line: string) => void;
}

/** Asked of the lane here after the run loop ended: it gets no answer (spread's workers get an empty one). */
const STOPPING = new Error("klink is stopping");

const key = (p: Part) => `${p.topic}\u0000${p.partition}`;

/** This klink's own fast lane (local-fast-lane.ts), as far as the Link's questions go. */
export interface LaneHere {
  /** Every partition it copies is copied up to the source's end seen last. */
  caughtUp(): boolean;
  /** When it last copied a record of `topic` (performance.now()), or null. */
  lastCopiedAt(topic: string): number | null;
}

function count(counts: Map<string, number>, topic: string, by: number): void {
  const n = (counts.get(topic) ?? 0) + by;
  if (n > 0) counts.set(topic, n);
  else counts.delete(topic);
}

/**
 * How long a topic called back stays here (keptHere): long enough for a promote to see the quiet
 * it waits for on the source (cutover/auto's quietSeconds up to this; called back again at every
 * round in which the policy would promote, so longer waits hold too).
 */
const WANTED_FOR_MS = 15 * 60_000;

export class Lending {
  private readonly lent = new Map<string, Part & { here: boolean }>();
  /** How many partitions of each topic are lent to other workers, and to the lane here: asked per topic every second (promote checks), so not counted each time. */
  private readonly lentPerTopic = new Map<string, number>();
  private readonly herePerTopic = new Map<string, number>();
  private laneHere: LaneHere | null = null;
  /** Topics being taken back now: neither lent nor started yet, so not drained nor caught up either. */
  private readonly returning = new Map<string, number>();
  /** Topics a lifecycle step waits for, until when: their lent partitions come back (keptHere says so). */
  private readonly wanted = new Map<string, number>();
  /** When each topic's partitions last came back from another worker: the Link sees its source writes from then on. */
  private readonly backAt = new Map<string, number>();
  /** The last source write the Link copied of partitions it lent to the lane here (their own record of it goes with them). */
  private readonly seenHere = new Map<string, number>();

  constructor(private readonly host: LendingHost, private readonly between: BetweenBatches) {}

  isLent(topic: string, partition: number): boolean {
    return this.lent.has(key({ topic, partition }));
  }

  /** The fast lane of this klink, which partitions are lent to with `lend(parts, true)`. */
  copiesHere(lane: LaneHere): void {
    this.laneHere = lane;
  }

  /** Nothing is copied elsewhere, and the lane here has copied up to the source's end. */
  caughtUp(): boolean {
    return this.lentPerTopic.size === 0 && this.returning.size === 0 && (this.herePerTopic.size === 0 || (this.laneHere?.caughtUp() ?? true));
  }

  /**
   * Stops copying `parts`, which another worker copies from now on: records held are dropped (read
   * again by whoever copies next), those in flight acknowledged, the filler producer closed.
   * Resolves once the Link writes nothing more to them, with those let go of cleanly: every record
   * sent there was acknowledged (a failed delivery stops a partition, so: those not stopped).
   */
  async lend(parts: Part[], here = false): Promise<Part[]> {
    const clean = await this.between.ask(async () => {
      const copied = parts.map((x) => this.host.get(x.topic, x.partition)).filter((p): p is LinkedPartition => p !== undefined);
      if (here) for (const p of copied) if (p.lastOriginalAt > (this.seenHere.get(p.topic) ?? 0)) this.seenHere.set(p.topic, p.lastOriginalAt);
      await this.host.letGo(copied);
      for (const x of parts) this.setLent(x, here);
      return copied.filter((p) => p.error === null).map((p) => ({ topic: p.topic, partition: p.partition }));
    }, here ? STOPPING : undefined);
    return clean ?? []; // the run loop had ended: nothing said
  }

  /** Copies lent partitions again, from where the target ends, as a restart of klink would resume them. */
  takeBack(parts: Part[]): Promise<void> {
    return this.between.ask(async () => {
      const fromAway = new Set(parts.filter((x) => this.lent.get(key(x))?.here === false).map((x) => x.topic));
      const topics = new Set(parts.map((x) => x.topic));
      for (const topic of topics) count(this.returning, topic, 1);
      for (const x of parts) this.setBack(x);
      try {
        await this.restart(topics, fromAway);
      } finally {
        for (const topic of topics) count(this.returning, topic, -1);
      }
    }, parts.every((x) => this.lent.get(key(x))?.here) ? STOPPING : undefined);
  }

  private async restart(topics: Set<string>, fromAway: Set<string>): Promise<void> {
    for (const topic of topics) {
      const from = fromAway.has(topic) ? "another worker" : "the fast lane";
      for (const a of await this.host.restart(topic)) this.host.log(`${topic}[${a.partition}]: taken back from ${from}; copying from source offset ${a.offset}`);
      if (fromAway.has(topic)) this.backAt.set(topic, performance.now()); // the writes copied elsewhere were not seen
    }
  }

  /** Every partition of the link, copied here or lent. */
  linkedPartitions(): Part[] {
    return [...[...this.host.running()].map((p) => ({ topic: p.topic, partition: p.partition })), ...[...this.lent.values()].map((x) => ({ topic: x.topic, partition: x.partition }))];
  }

  /**
   * Partitions that must be copied here, not by another worker: not plain mirroring at identical
   * offsets (translate mode, stopped, a topic past mirroring), or of a topic a lifecycle step waits for.
   */
  keptHere(): Part[] {
    const now = performance.now();
    const keep = (topic: string) => (this.wanted.get(topic) ?? 0) > now || this.host.topicState(topic) !== "mirroring";
    return this.linkedPartitions().filter((x) => {
      const p = this.host.get(x.topic, x.partition);
      return keep(x.topic) || (p !== undefined && (p.state !== "exact" || p.error !== null));
    });
  }

  /** A lifecycle step waits for `topic` (Link.drained): true while some of it is lent (also to the lane here), and it is called back. */
  holdsBack(topic: string): boolean {
    if (this.returning.has(topic)) return true;
    if (!this.lends(topic) && !this.herePerTopic.has(topic)) return false;
    this.callBack(topic);
    return true;
  }

  /** `topic` is to be copied here (a promote is near): its lent partitions come back, and it is not lent again for a while. */
  callBack(topic: string): void {
    this.wanted.set(topic, performance.now() + WANTED_FOR_MS);
  }

  /** Partitions of `topic` are lent to other workers. */
  lends(topic: string): boolean {
    return (this.lentPerTopic.get(topic) ?? 0) > 0;
  }

  /**
   * For the promote checks, from when on this Link has seen every source write of `topic`, or
   * when the lane here last copied one of them: now while some of it is lent to another worker
   * (which copies those writes, unseen here: as if written just now), the time it came back, or
   * null (always).
   */
  seenSince(topic: string): number | null {
    if (this.lends(topic)) return performance.now();
    let at = this.backAt.get(topic) ?? null;
    for (const t of [this.seenHere.get(topic), this.laneHere?.lastCopiedAt(topic)]) if (t && (at === null || t > at)) at = t;
    return at;
  }

  private setLent(x: Part, here: boolean): void {
    const k = key(x);
    if (this.lent.has(k)) return;
    this.lent.set(k, { topic: x.topic, partition: x.partition, here });
    count(here ? this.herePerTopic : this.lentPerTopic, x.topic, 1);
  }

  private setBack(x: Part): void {
    const k = key(x);
    const was = this.lent.get(k);
    if (!was) return;
    this.lent.delete(k);
    count(was.here ? this.herePerTopic : this.lentPerTopic, x.topic, -1);
  }
}
