/**
 * What klink keeps in its Store about a link and its partitions, and the one place that names the
 * keys it keeps them under. Nothing else builds a key: readers and writers go through here.
 *
 * Per partition, the Store's partition row holds the offset mode and the source offset from which
 * it holds; translate mode adds, in the key-value table, the target offset where the map begins,
 * whether offsets below the switch are identical, and each lane's position (ledger.ts).
 */
import type { OffsetMode, Store, StoreWrite } from "../../state/store.ts";

export type { OffsetMode };
export type Lane = "fetch" | "route";

/** Keys of the Store's key-value table. */
export const stateKey = {
  /** The cluster ids the state belongs to (one state, one cluster pair). */
  clusterId: (role: "source" | "target") => `cluster.${role}.id`,
  /** A random id created with the state: identifies the link to `klink status` and the control commands. */
  linkId: "link.id",
  targetStart: (topic: string, partition: number) => `translate.targetStart.${topic}.${partition}`,
  identicalBelow: (topic: string, partition: number) => `translate.identicalBelow.${topic}.${partition}`,
  lanePosition: (lane: Lane, topic: string, partition: number) => `${lane}.position.${topic}.${partition}`,
  /** A target topic's cleanup.policy while klink switched it to delete records (align.ts). */
  cleanupPolicy: (topic: string) => `cleanupPolicy.restore.${topic}`,
  /** klink created the target topic's partitions from this id on: records there without partition state are producers' (partition-start.ts). */
  createdFrom: (topic: string) => `topic.createdFrom.${topic}`,
  /** A rollback was asked for this group (handoff.ts). */
  rollback: (group: string) => `group.rollback.${group}`,
} as const;

/** One partition as stored. */
export interface StoredPartition {
  topic: string;
  partition: number;
  mode: OffsetMode;
  /** Exact: the source offset copying started at (the aligned log start). Translate: the source offset the map begins at. */
  sinceOffset: number;
  /** For people only (status, plan): never read by klink's logic. */
  detail: string | null;
  /** Translate: the target offset the map begins at. */
  targetStart: number;
  /** Translate: offsets below it are identical on both clusters (an exact copy until then); null: none are. */
  identicalBelow: number | null;
  /** Translate: where each lane resumes: everything before it decided and, if copied, acknowledged. */
  fetchPosition: number;
  routePosition: number;
}

const num = (v: string | null): number | null => (v === null ? null : Number(v));

/** The stored state of `topic`'s partitions. */
export async function storedPartitions(store: Store, topic: string): Promise<Map<number, StoredPartition>> {
  const out = new Map<number, StoredPartition>();
  for (const row of await store.partitions(topic)) {
    const p = { topic, partition: row.partition, mode: row.mode, sinceOffset: row.sinceOffset, detail: row.detail };
    if (row.mode === "exact") {
      out.set(row.partition, { ...p, targetStart: row.sinceOffset, identicalBelow: null, fetchPosition: row.sinceOffset, routePosition: row.sinceOffset });
      continue;
    }
    const get = (key: string) => store.get(key);
    const [targetStart, identicalBelow, fetchPosition, routePosition] = await Promise.all([
      get(stateKey.targetStart(topic, row.partition)),
      get(stateKey.identicalBelow(topic, row.partition)),
      get(stateKey.lanePosition("fetch", topic, row.partition)),
      get(stateKey.lanePosition("route", topic, row.partition)),
    ]);
    const start = num(targetStart) ?? 0;
    out.set(row.partition, {
      ...p, targetStart: start, identicalBelow: num(identicalBelow),
      fetchPosition: num(fetchPosition) ?? row.sinceOffset, routePosition: num(routePosition) ?? start,
    });
  }
  return out;
}

export async function storedPartition(store: Store, topic: string, partition: number): Promise<StoredPartition | undefined> {
  return (await storedPartitions(store, topic)).get(partition);
}

/** Exact mode from source offset `since` (where the target's log starts). */
export function exactWrite(topic: string, partition: number, since: number, detail: string | null = null): StoreWrite {
  return { partition: { topic, partition }, mode: "exact", sinceOffset: since, detail };
}

/**
 * Translate mode from source offset `from` and target offset `targetFrom` on: the map begins
 * there, both lanes resume there; `identicalBelow`: the offsets below `from` are identical (the
 * partition was an exact copy until then).
 */
export function translateWrites(topic: string, partition: number, from: number, targetFrom: number, identicalBelow: boolean, detail: string): StoreWrite[] {
  return [
    { partition: { topic, partition }, mode: "translate", sinceOffset: from, detail },
    { put: stateKey.targetStart(topic, partition), value: String(targetFrom) },
    { put: stateKey.identicalBelow(topic, partition), value: identicalBelow ? String(from) : null },
    { put: stateKey.lanePosition("fetch", topic, partition), value: String(from) },
    { put: stateKey.lanePosition("route", topic, partition), value: String(targetFrom) },
  ];
}

/** Each lane's position, stored with the offset-map rows behind them (ledger.ts). */
export function positionWrites(topic: string, partition: number, fetch: number, route: number): StoreWrite[] {
  return [
    { put: stateKey.lanePosition("fetch", topic, partition), value: String(fetch) },
    { put: stateKey.lanePosition("route", topic, partition), value: String(route) },
  ];
}
