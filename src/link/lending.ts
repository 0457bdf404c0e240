/**
 * link.spread (docs/workers.md, "Spreading partitions"): the partitions the runner's Link lends to
 * other workers and takes back, and which of its partitions must stay with it. Lending and taking
 * back run between two batches of the run loop (between-batches.ts).
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

const key = (p: Part) => `${p.topic}\u0000${p.partition}`;

/**
 * How long a topic called back stays here (keptHere): long enough for a promote to see the quiet
 * it waits for on the source (cutover/auto's quietSeconds up to this; called back again at every
 * round in which the policy would promote, so longer waits hold too).
 */
const WANTED_FOR_MS = 15 * 60_000;

export class Lending {
  private readonly lent = new Map<string, Part>();
  /** How many partitions of each topic are lent: asked per topic every second (promote checks), so not counted each time. */
  private readonly lentPerTopic = new Map<string, number>();
  /** Topics a lifecycle step waits for, until when: their lent partitions come back (keptHere says so). */
  private readonly wanted = new Map<string, number>();
  /** When each topic's partitions last came back: the Link sees its source writes from then on. */
  private readonly backAt = new Map<string, number>();

  constructor(private readonly host: LendingHost, private readonly between: BetweenBatches) {}

  isLent(topic: string, partition: number): boolean {
    return this.lent.has(key({ topic, partition }));
  }

  get any(): boolean {
    return this.lent.size > 0;
  }

  /**
   * Stops copying `parts`, which another worker copies from now on: records held are dropped (read
   * again by whoever copies next), those in flight acknowledged, the filler producer closed.
   * Resolves once the Link writes nothing more to them, with those let go of cleanly: every record
   * sent there was acknowledged (a failed delivery stops a partition, so: those not stopped).
   */
  async lend(parts: Part[]): Promise<Part[]> {
    const clean = await this.between.ask(async () => {
      const copied = parts.map((x) => this.host.get(x.topic, x.partition)).filter((p): p is LinkedPartition => p !== undefined);
      await this.host.letGo(copied);
      for (const x of parts) this.setLent(x, true);
      return copied.filter((p) => p.error === null).map((p) => ({ topic: p.topic, partition: p.partition }));
    });
    return clean ?? []; // the run loop had ended: nothing said
  }

  /** Copies lent partitions again, from where the target ends, as a restart of klink would resume them. */
  takeBack(parts: Part[]): Promise<void> {
    return this.between.ask(async () => {
      for (const x of parts) this.setLent(x, false);
      for (const topic of new Set(parts.map((x) => x.topic))) {
        for (const a of await this.host.restart(topic)) this.host.log(`${topic}[${a.partition}]: taken back from another worker; copying from source offset ${a.offset}`);
        this.backAt.set(topic, performance.now());
      }
    });
  }

  /** Every partition of the link, copied here or lent. */
  linkedPartitions(): Part[] {
    return [...[...this.host.running()].map((p) => ({ topic: p.topic, partition: p.partition })), ...this.lent.values()];
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

  /** A lifecycle step waits for `topic` (Link.drained): true while some of it is lent, and it is called back. */
  holdsBack(topic: string): boolean {
    if (!this.lends(topic)) return false;
    this.callBack(topic);
    return true;
  }

  /** `topic` is to be copied here (a promote is near): its lent partitions come back, and it is not lent again for a while. */
  callBack(topic: string): void {
    this.wanted.set(topic, performance.now() + WANTED_FOR_MS);
  }

  lends(topic: string): boolean {
    return (this.lentPerTopic.get(topic) ?? 0) > 0;
  }

  /**
   * For the promote checks, from when on this Link has seen every source write of `topic`: now
   * while some of it is lent (another worker copies those writes, unseen here: as if written just
   * now), the time it came back, or null (always).
   */
  seenSince(topic: string): number | null {
    if (this.lends(topic)) return performance.now();
    return this.backAt.get(topic) ?? null;
  }

  private setLent(x: Part, lent: boolean): void {
    const k = key(x);
    if (this.lent.has(k) === lent) return;
    if (lent) this.lent.set(k, { topic: x.topic, partition: x.partition });
    else this.lent.delete(k);
    const n = (this.lentPerTopic.get(x.topic) ?? 0) + (lent ? 1 : -1);
    if (n > 0) this.lentPerTopic.set(x.topic, n);
    else this.lentPerTopic.delete(x.topic);
  }
}
