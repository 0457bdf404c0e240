/**
 * `klink offsets export-groups`: consumer groups klink does not hand off (not under `groups:`, or
 * groups it cannot hold on the target: KIP-848 consumer protocol, Kafka Streams) are
 * moved by their operators with Kafka's own tool. For each, a file of `topic,partition,offset`
 * lines, the format `kafka-consumer-groups.sh --reset-offsets --from-file` reads: the group's
 * committed source offsets on linked topics, as target offsets (translated where they differ).
 * A committed offset maps to where the group resumes on the target without skipping a record it
 * had not read (the rule of group handoff, group-offsets.ts), from the stored state.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Admin, GroupDescription } from "../rdkafka/admin.ts";
import type { Store } from "../state/store.ts";
import type { Selection } from "../config/types.ts";
import { selects } from "../config/select.ts";
import { storedPartitions, type StoredPartition } from "./partition/state.ts";
import { mapOffset } from "./partition/translate.ts";

export interface GroupExport {
  group: string;
  /** Why klink does not hand it off. */
  why: string;
  /** The file written (null: no offset on a linked topic could be exported). */
  file: string | null;
  offsets: Array<{ topic: string; partition: number; sourceOffset: number; targetOffset: number }>;
  /** Committed offsets not exported, with why (not copied that far yet, topic not linked). */
  skipped: Array<{ topic: string; partition: number; sourceOffset: number; why: string }>;
}

/**
 * Why klink does not hand `d` off, or null: it does (under `groups:`, and handoff.ts can hold it;
 * an Empty group can be held too, so it is handed off with `klink handoff`).
 */
export function notHandedOff(d: GroupDescription, groups: Selection): string | null {
  if (!selects(groups, d.groupId)) return "not under groups:";
  if (d.type.toLowerCase() === "consumer") return "uses the consumer group protocol (KIP-848): klink cannot hold it on the target";
  if (d.partitionAssignor === "stream") return "a Kafka Streams application: klink cannot hold it on the target";
  return null;
}

/**
 * Where a group that committed source offset `offset` resumes on the target, from the stored
 * state; null while the records before it are not all on the target. `targetEnd`: the target
 * partition's end. `dualWrite`: producers write to the target too, and the Router may not have
 * passed their records to the source yet (the group has not read them): the answer is then no
 * later than the Router's stored position, so the group may read a few copies again, never skip.
 */
export async function exportedOffset(store: Store, stored: StoredPartition, offset: number, targetEnd: () => Promise<number>, dualWrite: boolean): Promise<number | null> {
  if (stored.mode === "exact") return offset <= (await targetEnd()) ? offset : null;
  const mapped = await mapOffset(store, stored, offset, "source");
  if (stored.identicalBelow !== null && offset < stored.identicalBelow) return mapped.translated;
  if (offset > stored.fetchPosition) return null; // not copied that far yet
  const copiedEnd = mapped.translated ?? (dualWrite ? stored.routePosition : await targetEnd());
  return dualWrite ? Math.min(copiedEnd, stored.routePosition) : copiedEnd;
}

/** A file name for a group id (any characters): percent-encoded, so each group has its own. */
export function groupFileName(group: string): string {
  return `${encodeURIComponent(group).replaceAll("*", "%2A").replace(/^\./, "%2E")}.csv`;
}

/** Exports `groups` (each with why it is not handed off) into `dir`, one file per group. */
export async function exportGroups(source: Admin, target: Admin, store: Store, groups: Array<{ group: string; why: string }>, dir: string): Promise<GroupExport[]> {
  mkdirSync(dir, { recursive: true });
  const translate = await groupTranslator(source, target, store);
  const out: GroupExport[] = [];
  for (const { group, why } of groups) {
    const e: GroupExport = { group, why, file: null, ...(await translate(group)) };
    if (e.offsets.length) {
      e.file = join(dir, groupFileName(group));
      writeFileSync(e.file, e.offsets.map((x) => `${x.topic},${x.partition},${x.targetOffset}`).join("\n") + "\n");
    }
    out.push(e);
  }
  return out;
}

/**
 * A group's committed source offsets as target offsets (`offsets`), and those that cannot be
 * (`skipped`, with why), from the stored state; for export-groups and `klink plan`.
 */
export async function groupTranslator(source: Admin, target: Admin, store: Store): Promise<(group: string) => Promise<Pick<GroupExport, "offsets" | "skipped">>> {
  const stored = new Map<string, Map<number, StoredPartition>>();
  // a topic in dual write or after: producers may write to its target partitions
  const dualWrite = new Set((await store.topics()).filter((t) => t.state !== "mirroring").map((t) => t.topic));
  return async (group) => {
    const e: Pick<GroupExport, "offsets" | "skipped"> = { offsets: [], skipped: [] };
    const committed = (await source.listConsumerGroupOffsets(group)).filter((o) => o.offset >= 0);
    for (const o of committed.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)) {
      if (!stored.has(o.topic)) stored.set(o.topic, await storedPartitions(store, o.topic));
      const s = stored.get(o.topic)!.get(o.partition);
      if (!s) {
        e.skipped.push({ topic: o.topic, partition: o.partition, sourceOffset: o.offset, why: "not linked by klink: stays on the source" });
        continue;
      }
      const end = async () => (await target.watermarks([{ topic: o.topic, partition: o.partition }]))[0]!.high;
      const t = await exportedOffset(store, s, o.offset, end, dualWrite.has(o.topic));
      if (t === null) e.skipped.push({ topic: o.topic, partition: o.partition, sourceOffset: o.offset, why: "not copied that far yet: export again once klink caught up" });
      else e.offsets.push({ topic: o.topic, partition: o.partition, sourceOffset: o.offset, targetOffset: t });
    }
    return e;
  };
}

/** The source's groups klink does not hand off that committed offsets on `linkedTopics`, or the groups named. */
export async function groupsToExport(source: Admin, groups: Selection, linkedTopics: Set<string>, named?: string[]): Promise<Array<{ group: string; why: string }>> {
  const ids = named ?? (await source.listConsumerGroups()).map((g) => g.groupId).sort();
  if (ids.length === 0) return [];
  const out: Array<{ group: string; why: string }> = [];
  for (const d of await source.describeConsumerGroups(ids)) {
    const why = notHandedOff(d, groups);
    if (named) {
      out.push({ group: d.groupId, why: why ?? "named with --groups (klink hands it off: export only to move it yourself)" });
      continue;
    }
    if (why === null) continue;
    const committed = await source.listConsumerGroupOffsets(d.groupId);
    if (committed.some((o) => linkedTopics.has(o.topic))) out.push({ group: d.groupId, why });
  }
  return out;
}
