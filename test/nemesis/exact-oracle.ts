/**
 * Exact mode, judged from the two clusters alone: every partition of the target holds the
 * source's records at the source's offsets, byte-identical (key, value, headers, CreateTime),
 * nothing else, and the same log start and log end offsets.
 *
 * Compacted topics are compacted by each cluster's own cleaner, at its own pace, so a record on
 * one side only is allowed when that side's cleaner may have removed it from the other: a later
 * record with the same key is on the other side, or it is a tombstone (null value).
 */
import { contentOf, showRec, type LogOffsets, type Rec } from "./read-cluster.ts";
import type { Violation } from "./violations.ts";

function byPartition(records: Rec[]): Map<number, Map<number, Rec>> {
  const out = new Map<number, Map<number, Rec>>();
  for (const r of records) {
    let m = out.get(r.partition);
    if (!m) out.set(r.partition, (m = new Map()));
    m.set(r.offset, r);
  }
  return out;
}

/** key → highest offset holding it, per partition */
function lastOffsetOfKey(records: Map<number, Rec>): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of records.values()) out.set(r.key, Math.max(out.get(r.key) ?? -1, r.offset));
  return out;
}

const mayBeCompactedAway = (r: Rec, otherLast: Map<string, number>) => r.value === "null" || (otherLast.get(r.key) ?? -1) > r.offset;

/** Offset-by-offset comparison of the records both clusters hold (as `reader` saw them). */
export function compareRecords(topic: string, source: Rec[], target: Rec[], o: { compacted: boolean; reader: string }): Violation[] {
  const out: Violation[] = [];
  const src = byPartition(source);
  const tgt = byPartition(target);
  for (const p of [...new Set([...src.keys(), ...tgt.keys()])].sort((a, b) => a - b)) {
    const s = src.get(p) ?? new Map<number, Rec>();
    const t = tgt.get(p) ?? new Map<number, Rec>();
    const where = (offset: number) => `${topic}[${p}] offset ${offset}`;
    // where each content sits on each side, to say where a misplaced record went
    const at = (m: Map<number, Rec>) => {
      const idx = new Map<string, number[]>();
      for (const r of m.values()) {
        const list = idx.get(contentOf(r));
        if (list) list.push(r.offset);
        else idx.set(contentOf(r), [r.offset]);
      }
      return idx;
    };
    const sAt = at(s);
    const tAt = at(t);
    const sLast = lastOffsetOfKey(s);
    const tLast = lastOffsetOfKey(t);
    const shifts = new Map<number, { count: number; first: number }>();
    const offsets = [...new Set([...s.keys(), ...t.keys()])].sort((a, b) => a - b);
    for (const offset of offsets) {
      const a = s.get(offset);
      const b = t.get(offset);
      if (a && b) {
        if (contentOf(a) !== contentOf(b)) {
          const elsewhere = tAt.get(contentOf(a));
          out.push({ kind: "record differs", where: where(offset), detail: `source: ${showRec(a)}; target: ${showRec(b)}; the source's record is ${elsewhere ? `at target offset(s) ${elsewhere.join(", ")}` : "nowhere on the target"} [${o.reader}]` });
          if (elsewhere?.length === 1) note(shifts, elsewhere[0]! - offset, offset);
        }
      } else if (a) {
        if (o.compacted && mayBeCompactedAway(a, tLast)) continue;
        const elsewhere = tAt.get(contentOf(a));
        out.push({ kind: "missing on target", where: where(offset), detail: `source: ${showRec(a)}; target: nothing at this offset; the source's record is ${elsewhere ? `at target offset(s) ${elsewhere.join(", ")}` : "nowhere on the target"} [${o.reader}]` });
        if (elsewhere?.length === 1) note(shifts, elsewhere[0]! - offset, offset);
      } else if (b) {
        if (o.compacted && mayBeCompactedAway(b, sLast)) continue;
        const onSource = sAt.get(contentOf(b));
        out.push({ kind: "extra on target", where: where(offset), detail: `target: ${showRec(b)}; source: nothing at this offset; the target's record is ${onSource ? `at source offset(s) ${onSource.join(", ")}` : "not on the source"} [${o.reader}]` });
      }
    }
    for (const [content, list] of tAt) {
      if (list.length > 1 && list.length > (sAt.get(content)?.length ?? 0)) {
        out.push({ kind: "duplicate on target", where: `${topic}[${p}] offsets ${list.join(", ")}`, detail: `one record, ${list.length} times on the target, ${sAt.get(content)?.length ?? 0} on the source: ${showRec(t.get(list[0]!)!)} [${o.reader}]` });
      }
    }
    for (const [delta, { count, first }] of shifts) {
      out.push({ kind: "records at shifted offsets", where: `${topic}[${p}]`, detail: `${count} source record(s) sit ${delta > 0 ? "+" : ""}${delta} on the target, the first at source offset ${first} [${o.reader}]` });
    }
  }
  return out;
}

function note(shifts: Map<number, { count: number; first: number }>, delta: number, offset: number): void {
  const s = shifts.get(delta);
  if (s) s.count++;
  else shifts.set(delta, { count: 1, first: offset });
}

/** Log start and log end offsets equal per partition (with the first record on each side, to explain a difference). */
export function compareLogOffsets(topic: string, source: Map<number, LogOffsets>, target: Map<number, LogOffsets>, firstRecord: { source: Map<number, number>; target: Map<number, number> }): Violation[] {
  const out: Violation[] = [];
  for (const [p, s] of source) {
    const t = target.get(p);
    const first = `first record on the source at ${firstRecord.source.get(p) ?? "none"}, on the target at ${firstRecord.target.get(p) ?? "none"}`;
    if (!t) {
      out.push({ kind: "partition missing on target", where: `${topic}[${p}]`, detail: `the source has log start ${s.start}, end ${s.end}; the target has no such partition` });
      continue;
    }
    if (s.start !== t.start) out.push({ kind: "log start differs", where: `${topic}[${p}]`, detail: `source log start ${s.start}, target ${t.start} (${first})` });
    if (s.end !== t.end) out.push({ kind: "log end differs", where: `${topic}[${p}]`, detail: `source log end ${s.end}, target ${t.end}` });
  }
  return out;
}

/**
 * The two readers must see the same records on one cluster (else one of them cannot be trusted).
 * They read one after the other: on a compacted topic the cleaner may remove records in between.
 */
export function compareReaders(side: string, topic: string, librdkafka: Rec[], console: Rec[], compacted: boolean): Violation[] {
  const key = (r: Rec) => `${r.partition}@${r.offset}\t${contentOf(r)}`;
  const out: Violation[] = [];
  const onlyIn = (a: Rec[], b: Rec[], said: string) => {
    const inB = new Set(b.map(key));
    const bLast = new Map([...byPartition(b)].map(([p, m]) => [p, lastOffsetOfKey(m)]));
    for (const r of a) {
      if (inB.has(key(r)) || (compacted && mayBeCompactedAway(r, bLast.get(r.partition) ?? new Map()))) continue;
      out.push({ kind: `readers disagree on the ${side}`, where: `${topic}[${r.partition}] offset ${r.offset}`, detail: `${said} ${showRec(r)}` });
    }
  };
  onlyIn(librdkafka, console, "librdkafka read, the console consumer did not:");
  onlyIn(console, librdkafka, "the console consumer read, librdkafka did not:");
  return out;
}

export function firstOffsets(records: Rec[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of records) out.set(r.partition, Math.min(out.get(r.partition) ?? Infinity, r.offset));
  return out;
}
