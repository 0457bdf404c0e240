/**
 * `klink plan`'s view of the consumer groups klink does not hand off (not under `groups:`,
 * KIP-848, Kafka Streams; group-export.ts): per partition of a linked topic, where the group
 * would resume on the target (its committed source offset, translated from klink's state) next
 * to what it has committed there. Only partitions that differ are listed.
 */
import type { Admin, GroupDescription } from "../rdkafka/admin.ts";
import type { Store } from "../state/store.ts";
import type { Selection } from "../config/types.ts";
import { groupTranslator, notHandedOff } from "../link/group-export.ts";
import type { GroupOffsetsPlan } from "./types.ts";

export async function groupOffsetsPlan(admins: { source: Admin; target: Admin }, store: Store, groups: Selection, linkedTopics: Set<string>, sourceGroups: GroupDescription[]): Promise<GroupOffsetsPlan[]> {
  const candidates = sourceGroups.map((d) => ({ group: d.groupId, why: notHandedOff(d, groups) })).filter((g): g is { group: string; why: string } => g.why !== null);
  if (candidates.length === 0) return [];
  const translate = await groupTranslator(admins.source, admins.target, store);
  const onLinked = <T extends { topic: string }>(rows: T[]) => rows.filter((r) => linkedTopics.has(r.topic));
  const out: GroupOffsetsPlan[] = [];
  for (const { group, why } of candidates) {
    const t = await translate(group);
    const [translated, notYet] = [onLinked(t.offsets), onLinked(t.skipped)];
    if (translated.length + notYet.length === 0) continue; // reads no linked topic
    const committed = await admins.target.listConsumerGroupOffsets(group).catch(() => []); // a group the target does not know has none
    const onTarget = new Map(committed.filter((o) => o.offset >= 0).map((o) => [`${o.topic}\0${o.partition}`, o.offset]));
    const target = (r: { topic: string; partition: number }) => onTarget.get(`${r.topic}\0${r.partition}`) ?? null;
    const rows = [
      ...translated.map((r) => ({ topic: r.topic, partition: r.partition, sourceOffset: r.sourceOffset, targetOffset: r.targetOffset, onTarget: target(r) })),
      ...notYet.map((r) => ({ topic: r.topic, partition: r.partition, sourceOffset: r.sourceOffset, targetOffset: null, onTarget: target(r) })),
    ].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    out.push({ group, why, partitions: rows.length, differ: rows.filter((r) => r.targetOffset === null || r.targetOffset !== r.onTarget) });
  }
  return out;
}
