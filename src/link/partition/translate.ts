/**
 * Translating an offset from one cluster to the other, from the state klink keeps: the one
 * translator behind `klink offsets translate`, group handoff and rollback.
 *
 * An offset that is a record klink copied maps to that record's offset on the other side; any
 * other offset (a consumer group's committed position, a hole) maps to the lowest other-side
 * offset among the records at or after it, so a group moved with the answer skips nothing it had
 * not consumed (it may see again the few records whose order differs between the clusters).
 */
import type { Store } from "../../state/store.ts";
import { storedPartition, type OffsetMode, type StoredPartition } from "./state.ts";

export interface Translation {
  topic: string;
  partition: number;
  from: "source" | "target";
  offset: number;
  /** The offset on the other cluster; null when nothing was copied at or after `offset` yet. */
  translated: number | null;
  mode: OffsetMode;
  /** How the answer was found. */
  how: string;
}

/** `offset` of `stored`'s partition on the `from` cluster, on the other cluster. */
export async function mapOffset(store: Store, stored: StoredPartition, offset: number, from: "source" | "target"): Promise<Translation> {
  const { topic, partition } = stored;
  const base = { topic, partition, from, offset, mode: stored.mode };
  if (stored.mode === "exact") return { ...base, translated: offset, how: "exact mode: offsets are identical on both clusters" };
  if (stored.identicalBelow !== null && offset < stored.identicalBelow) {
    return { ...base, translated: offset, how: `identical below offset ${stored.identicalBelow}, where translate mode began (an exact copy until then)` };
  }
  const row = await store.seek(from, topic, partition, offset);
  if (!row) return { ...base, translated: null, how: "no record at or after this offset was copied yet" };
  const own = from === "source" ? row.sourceOffset : row.targetOffset;
  const other = from === "source" ? row.targetOffset : row.sourceOffset;
  if (own === offset) return { ...base, translated: other, how: "the offset map's row for this record" };
  return { ...base, translated: other, how: `the lowest ${from === "source" ? "target" : "source"} offset of the records at or after ${offset}: a group resuming there skips nothing it had not read` };
}

/**
 * `klink offsets translate`: null when klink keeps no state for the partition. In exact mode the
 * state does not say how far klink copied: `copiedEnd` (the target's end offset) does, and an
 * offset at or past it has no record copied at or after it yet, as in translate mode. (A group
 * handoff maps its committed offset, which may be that end, with mapOffset.)
 */
export async function translateOffset(store: Store, topic: string, partition: number, offset: number, from: "source" | "target", copiedEnd: () => Promise<number>): Promise<Translation | null> {
  const stored = await storedPartition(store, topic, partition);
  if (!stored) return null;
  const t = await mapOffset(store, stored, offset, from);
  if (t.mode !== "exact") return t;
  const end = await copiedEnd();
  return offset < end ? t : { ...t, translated: null, how: `exact mode, but nothing at or after offset ${offset} was copied yet: the target's log ends at ${end}` };
}
