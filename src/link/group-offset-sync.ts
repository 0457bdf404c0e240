/**
 * Continuous group offset sync (`link.groupOffsetSync: true`): the committed offsets of groups
 * klink does not hand off (group-export.ts says which) follow the source on the target, every
 * 10 s, so that such a group started on the target resumes near where it stopped on the source.
 * Each committed source offset is translated as a handoff translates it (group-offsets.ts: never
 * past a record the group had not read); a partition not copied that far waits. Never moved:
 * - a group that has members on the target (it reads there: its offsets are its own); the broker
 *   refuses an offset commit for a group with members, so one that joins meanwhile is safe too;
 * - an offset backwards: a target offset ahead of the source's (the group read on the target
 *   already) stays.
 */
import { BackgroundRound } from "./background-round.ts";
import { KafkaError, type Admin } from "../rdkafka/index.ts";
import type { Selection } from "../config/types.ts";
import { notHandedOff } from "./group-export.ts";

export const GROUP_OFFSET_SYNC_INTERVAL_MS = 10_000;

export interface GroupOffsetSyncContext {
  sourceAdmin: Admin;
  targetAdmin: Admin;
  /** `groups:` (klink hands those off itself). */
  groups: Selection;
  linkedTopics: () => Set<string>;
  /** Where a group committed at source offset `offset` resumes on the target; null until it can. */
  translate: (topic: string, partition: number, offset: number) => Promise<number | null>;
  log: (line: string) => void;
}

export class GroupOffsetSync {
  private readonly rounds = new BackgroundRound(GROUP_OFFSET_SYNC_INTERVAL_MS, () => this.syncAll());
  private readonly said = new Set<string>();

  constructor(private readonly c: GroupOffsetSyncContext) {}

  tick(): void {
    this.rounds.tick();
  }

  /** The sync's admin calls have ended (before the admin clients close). */
  idle(): Promise<void> {
    return this.rounds.idle();
  }

  private async syncAll(): Promise<void> {
    const ids = (await this.c.sourceAdmin.listConsumerGroups()).map((g) => g.groupId);
    if (ids.length === 0) return;
    const candidates = (await this.c.sourceAdmin.describeConsumerGroups(ids)).filter((d) => notHandedOff(d, this.c.groups) !== null).map((d) => d.groupId);
    const onTarget = new Map((await this.c.targetAdmin.listConsumerGroups()).map((g) => [g.groupId, g]));
    for (const group of candidates) {
      const there = onTarget.get(group);
      if (there && there.state !== "Empty" && there.state !== "Dead") continue; // it reads on the target
      await this.syncGroup(group).catch((err) => this.once(`${group}\0${(err as Error).message}`, `group ${group}: committed offsets not synced to the target: ${(err as Error).message}; tried again in ${GROUP_OFFSET_SYNC_INTERVAL_MS / 1000} s`));
    }
  }

  private async syncGroup(group: string): Promise<void> {
    const linked = this.c.linkedTopics(); // topics created on the source after start join (new-topics.ts)
    const committed = (await this.c.sourceAdmin.listConsumerGroupOffsets(group)).filter((o) => o.offset >= 0 && linked.has(o.topic));
    if (committed.length === 0) return;
    const current = new Map((await this.c.targetAdmin.listConsumerGroupOffsets(group, committed.map((o) => ({ topic: o.topic, partition: o.partition })))).map((o) => [`${o.topic}\0${o.partition}`, o.offset]));
    const moves: Array<{ topic: string; partition: number; offset: number }> = [];
    for (const o of committed) {
      const to = await this.c.translate(o.topic, o.partition, o.offset);
      if (to === null) continue; // not copied that far yet
      const have = current.get(`${o.topic}\0${o.partition}`) ?? -1;
      if (to > have) moves.push({ topic: o.topic, partition: o.partition, offset: to });
    }
    if (moves.length === 0) return;
    try {
      await this.c.targetAdmin.alterConsumerGroupOffsets(group, moves);
    } catch (err) {
      // members joined on the target meanwhile: the broker refused, their offsets are theirs
      if (err instanceof KafkaError && (err.codeName === "UNKNOWN_MEMBER_ID" || err.codeName === "GROUP_SUBSCRIBED_TO_TOPIC" || err.codeName === "REBALANCE_IN_PROGRESS")) return;
      throw err;
    }
    this.c.log(`group ${group}: committed offsets synced to the target: ${moves.map((m) => `${m.topic}[${m.partition}]=${m.offset}`).join(", ")}`);
  }

  private once(key: string, line: string): void {
    if (this.said.has(key)) return;
    this.said.add(key);
    this.c.log(line);
  }
}
