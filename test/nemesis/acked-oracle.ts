/**
 * Every record a producer had acknowledged (or a transaction committed) is on a cluster exactly
 * once, in its partition (and, when the acknowledgement named one, at its source offset), and
 * no record is there twice, acknowledged or not.
 */
import { showRec, type Rec } from "./read-cluster.ts";
import type { Violation } from "./violations.ts";

export interface Expected {
  /** what `idOf` returns for the record */
  id: string;
  partition: number;
  /** the source offset the acknowledgement gave, if any */
  offset?: number;
  /** a compacted topic's cleaner may remove it (a later record has its key, or it is a tombstone) */
  compactable?: boolean;
}

export function checkAcked(side: "source" | "target", topic: string, expected: Expected[], records: Rec[], idOf: (r: Rec) => string | null): Violation[] {
  const out: Violation[] = [];
  const found = new Map<string, Rec[]>();
  for (const r of records) {
    const id = idOf(r);
    if (id === null) continue;
    const list = found.get(id);
    if (list) list.push(r);
    else found.set(id, [r]);
  }
  for (const [id, list] of found) {
    if (list.length > 1) out.push({ kind: `duplicate on the ${side}`, where: `${topic} record ${id}`, detail: `at ${list.map((r) => `[${r.partition}] offset ${r.offset}`).join(", ")}: ${showRec(list[0]!)}` });
  }
  for (const e of expected) {
    const list = found.get(e.id) ?? [];
    const acked = `acknowledged in partition ${e.partition}${e.offset !== undefined ? ` at source offset ${e.offset}` : ""}`;
    if (list.length === 0) {
      if (!e.compactable) out.push({ kind: `acknowledged record missing on the ${side}`, where: `${topic} record ${e.id}`, detail: `${acked}; not on the ${side}` });
      continue;
    }
    const r = list[0]!;
    if (r.partition !== e.partition) out.push({ kind: `record in another partition on the ${side}`, where: `${topic} record ${e.id}`, detail: `${acked}; on the ${side} in partition ${r.partition} offset ${r.offset}` });
    else if (e.offset !== undefined && r.offset !== e.offset) out.push({ kind: `acknowledged record at another offset on the ${side}`, where: `${topic}[${e.partition}] offset ${e.offset}`, detail: `${acked}; on the ${side} at offset ${r.offset} (${r.offset > e.offset ? "+" : ""}${r.offset - e.offset})` });
  }
  return out;
}
