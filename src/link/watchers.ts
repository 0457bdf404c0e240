/**
 * What the Link looks at in the background, between batches, without holding the data path up:
 * - every 5 s each source partition's last stable offset (the lag in status; a deleted source
 *   topic stops its partitions);
 * - every 2 s the target end of idle exact partitions: one that moved past the Fetcher's next
 *   offset was written to by a producer (a busy partition shows it in its delivery reports);
 * - every 10 s partitions added to a source topic, which are then created on the target and copied.
 */
import { KafkaError, OffsetSpec, type Admin } from "../rdkafka/index.ts";
import type { LinkedPartition } from "./partition/partition.ts";

export interface WatchContext {
  sourceAdmin: Admin;
  targetAdmin: Admin;
  topics: string[];
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

  constructor(private readonly c: WatchContext) {}

  /** Starts the background looks that are due; the partitions-added one is awaited (it assigns). */
  async tick(): Promise<void> {
    this.refreshSourceEnds();
    this.watchTargetEnds();
    await this.linkNewPartitions();
  }

  /** The watchers' admin calls have ended (before the admin clients close). */
  async idle(): Promise<void> {
    while (this.refreshingEnds || this.watchingTargets) await Bun.sleep(5);
  }

  private byTopic(parts: LinkedPartition[]): Map<string, LinkedPartition[]> {
    const out = new Map<string, LinkedPartition[]>();
    for (const p of parts) out.set(p.topic, [...(out.get(p.topic) ?? []), p]);
    return out;
  }

  private refreshSourceEnds(): void {
    if (this.refreshingEnds || performance.now() - this.lastEndsRefresh < 5_000) return;
    this.refreshingEnds = true;
    this.lastEndsRefresh = performance.now();
    const c = this.c;
    Promise.all(
      [...this.byTopic([...c.partitions()].filter((p) => p.copying))].map(async ([topic, parts]) => {
        try {
          const ends = await c.sourceAdmin.listOffsets(parts.map((p) => ({ topic, partition: p.partition, offset: OffsetSpec.LATEST })), true);
          for (const e of ends) {
            const p = c.get(topic, e.partition);
            if (p && e.offset > p.sourceEnd) p.sourceEnd = e.offset;
          }
        } catch (err) {
          if (err instanceof KafkaError && (err.codeName === "UNKNOWN_TOPIC_OR_PART" || err.codeName === "_UNKNOWN_TOPIC" || err.codeName === "_NOENT")) {
            let gone = false;
            try {
              gone = c.sourceAdmin.listTopics().every((t) => t.name !== topic);
            } catch {
              // the source is unreachable right now: ask again next time
            }
            if (gone) for (const p of parts) c.fail(p, new KafkaError(err.code, `the source topic ${topic} no longer exists (deleted?): its partitions stop here`));
          }
        }
      }),
    )
      .catch(() => {}) // a refresh that fails (a broker failing over) is simply tried again later
      .finally(() => (this.refreshingEnds = false));
  }

  private watchTargetEnds(): void {
    if (this.watchingTargets || performance.now() - this.lastTargetWatch < 2_000) return;
    const idle = [...this.c.partitions()].filter((p) => p.idleExact);
    if (idle.length === 0) return;
    this.watchingTargets = true;
    this.lastTargetWatch = performance.now();
    const c = this.c;
    const seen = new Map(idle.map((p) => [p, p.next]));
    Promise.all(
      [...this.byTopic(idle)].map(async ([topic, parts]) => {
        const ends = await c.targetAdmin.listOffsets(parts.map((p) => ({ topic, partition: p.partition, offset: OffsetSpec.LATEST })), false);
        for (const e of ends) {
          const p = c.get(topic, e.partition);
          if (!p || !p.idleExact || p.next !== seen.get(p)) continue; // it copied meanwhile: its reports will tell
          if (e.offset > p.next) c.onDualWrite(p, e.offset);
        }
      }),
    )
      .catch(() => {}) // tried again in 2 s
      .finally(() => (this.watchingTargets = false));
  }

  private async linkNewPartitions(): Promise<void> {
    if (performance.now() - this.lastGrowthCheck < 10_000) return;
    this.lastGrowthCheck = performance.now();
    for (const topic of this.c.topics) {
      try {
        const [desc] = await this.c.sourceAdmin.describeTopics([topic]);
        if (desc!.partitions.some((p) => !this.c.get(topic, p.partition))) await this.c.linkNewPartitions(topic);
      } catch {
        // the source topic is unreachable or gone: refreshSourceEnds reports that
      }
    }
  }
}
