/**
 * Translating one offset between the clusters, from the state klink keeps. An offset that is a
 * record klink copied maps to that record's offset on the other side; any other offset (a
 * consumer group's committed position, a hole) maps to the first copied record at or after it,
 * so a group moved with the answer skips nothing it had not consumed.
 */
import type { Store } from "../state/store.ts";

export interface Translation {
  topic: string;
  partition: number;
  from: "source" | "target";
  offset: number;
  /** The offset on the other cluster; null when nothing was copied at or after `offset` yet. */
  translated: number | null;
  mode: "exact" | "translate";
  /** How the answer was found. */
  how: string;
}

export async function translateOffset(store: Store, topic: string, partition: number, offset: number, from: "source" | "target"): Promise<Translation | null> {
  const state = (await store.partitions(topic)).find((p) => p.partition === partition);
  if (!state) return null;
  const base = { topic, partition, from, offset, mode: state.mode };
  if (state.mode === "exact") return { ...base, translated: offset, how: "exact mode: offsets are identical on both clusters" };
  const equalBelow = await store.get(`translate.identicalBelow.${topic}.${partition}`);
  if (equalBelow !== null && offset < Number(equalBelow)) {
    return { ...base, translated: offset, how: `identical below offset ${equalBelow}, where producers began writing to the target (dual write)` };
  }
  const row = await store.seek(from, topic, partition, offset);
  if (!row) return { ...base, translated: null, how: "no record at or after this offset was copied yet" };
  const own = from === "source" ? row.sourceOffset : row.targetOffset;
  const other = from === "source" ? row.targetOffset : row.sourceOffset;
  if (own === offset) return { ...base, translated: other, how: "the offset map's row for this record" };
  return { ...base, translated: other, how: `the lowest ${from === "source" ? "target" : "source"} offset of the records at or after ${offset}: a group resuming there skips nothing it had not read` };
}
