/**
 * Verify: compares source and target partition by partition over the mirrored range, record by
 * record at equal offsets, with a digest of (key, value, headers, timestamp) per record. Both
 * sides are read `read_committed`, as a consumer of either cluster would see them.
 */
import { toArrayBuffer } from "bun:ffi";
import { Admin, Consumer, OffsetSpec, type ConsumedMessage } from "../rdkafka/index.ts";
import type { Store } from "../../plugins/plugin.ts";
import type { Cluster } from "./cluster.ts";

export interface PartitionVerdict {
  topic: string;
  partition: number;
  source: { logStartOffset: number; end: number };
  target: { logStartOffset: number; end: number };
  /** Compared range [from, to). */
  from: number;
  to: number;
  compared: number;
  mismatched: number;
  missingOnTarget: number;
  extraOnTarget: number;
  /** Offset-map rows of one direction whose order differs between the clusters (I3). */
  reordered: number;
  /** The first difference: an offset and what differs there. */
  firstDifference: { offset: number; what: string } | null;
}

export function identical(v: PartitionVerdict): boolean {
  return v.mismatched === 0 && v.missingOnTarget === 0 && v.extraOnTarget === 0 && v.reordered === 0;
}

export type Digest = { offset: number; hash: bigint };

function view(p: number, len: number): Uint8Array {
  return len ? new Uint8Array(toArrayBuffer(p as never, 0, len)) : new Uint8Array(0);
}

/** Digest of one record, read in place (no copy of key or value into JS memory). */
export function recordDigest(m: ConsumedMessage): bigint {
  const { timestamp, type } = m.timestamp();
  let h = Bun.hash.wyhash(`${timestamp}/${type}/${m.keyPointer ? "k" : "-"}${m.valuePointer ? "v" : "-"}`);
  if (m.keyPointer) h = Bun.hash.wyhash(view(m.keyPointer, m.keyLength), h);
  if (m.valuePointer) h = Bun.hash.wyhash(view(m.valuePointer, m.valueLength), h);
  for (const [name, value] of m.headers()) {
    h = Bun.hash.wyhash(name, h);
    h = value === null ? Bun.hash.wyhash("\u0000null", h) : Bun.hash.wyhash(value, h);
  }
  return h;
}

/**
 * Compares every partition of `topic`. Partitions in translate mode (per `store`) are compared
 * through the offset map: each target record is checked against the source record its row names,
 * so in dual write (where the clusters' orders differ) every record must be on both clusters once
 * and byte-identical; and each direction's rows must keep their order on both clusters (I3).
 */
export async function verifyTopic(source: Cluster, target: Cluster, topic: string, store?: Store): Promise<PartitionVerdict[]> {
  const sourceAdmin = new Admin(source.config, source.options);
  const targetAdmin = new Admin(target.config, target.options);
  let ranges;
  try {
    const [desc] = await sourceAdmin.describeTopics([topic]);
    const tps = desc!.partitions.map((p) => ({ topic, partition: p.partition }));
    const [s, t, sEnd, tEnd] = await Promise.all([
      sourceAdmin.listOffsets(tps.map((tp) => ({ ...tp, offset: OffsetSpec.EARLIEST }))),
      targetAdmin.listOffsets(tps.map((tp) => ({ ...tp, offset: OffsetSpec.EARLIEST }))),
      sourceAdmin.listOffsets(tps.map((tp) => ({ ...tp, offset: OffsetSpec.LATEST })), true),
      targetAdmin.listOffsets(tps.map((tp) => ({ ...tp, offset: OffsetSpec.LATEST })), true),
    ]);
    const at = (list: typeof s, p: number) => list.find((x) => x.partition === p)!.offset;
    ranges = tps.map(({ partition }) => {
      const source = { logStartOffset: at(s, partition), end: at(sEnd, partition) };
      const target = { logStartOffset: at(t, partition), end: at(tEnd, partition) };
      return { partition, source, target, from: Math.max(source.logStartOffset, target.logStartOffset), to: Math.max(source.end, target.end) };
    });
  } finally {
    sourceAdmin.close();
    targetAdmin.close();
  }
  const modes = new Map((store ? await store.partitions(topic) : []).map((p) => [p.partition, p]));
  const translated = new Map<number, { sinceOffset: number; targetStart: number; exactBelow: boolean }>();
  for (const [partition, state] of modes) {
    if (state.mode !== "translate") continue;
    const targetStart = Number((await store!.get(`translate.targetStart.${topic}.${partition}`)) ?? 0);
    const identicalBelow = await store!.get(`translate.identicalBelow.${topic}.${partition}`);
    translated.set(partition, { sinceOffset: state.sinceOffset, targetStart, exactBelow: identicalBelow !== null || /identical/.test(state.detail ?? "") });
  }
  // Translate-mode partitions: the source from the mapped start (or the link's start when the
  // offsets below it are identical), the target from where klink began appending.
  const sourceRanges = ranges.map((r) => {
    const tr = translated.get(r.partition);
    return tr && !tr.exactBelow ? { ...r, from: Math.max(r.source.logStartOffset, tr.sinceOffset) } : r;
  });
  const targetRanges = ranges.map((r) => {
    const tr = translated.get(r.partition);
    return tr && !tr.exactBelow ? { ...r, from: Math.max(r.target.logStartOffset, tr.targetStart) } : r;
  });
  const [sourceDigests, targetDigests] = await Promise.all([readRanges(source, topic, sourceRanges), readRanges(target, topic, targetRanges)]);
  const verdicts: PartitionVerdict[] = [];
  for (const r of sourceRanges) {
    let tgt = targetDigests.get(r.partition)!;
    const tr = translated.get(r.partition);
    let reordered = 0;
    if (tr) ({ digests: tgt, reordered } = await inSourceOffsets(store!, topic, r.partition, tr, tgt));
    const v = compare(topic, r, sourceDigests.get(r.partition)!, tgt);
    v.reordered = reordered;
    if (reordered && !v.firstDifference) v.firstDifference = { offset: r.from, what: `${reordered} records are out of their producer's order on one of the clusters` };
    verdicts.push(v);
  }
  return verdicts;
}

/**
 * Target digests renumbered with the source offsets the offset map gives them (unmapped: after
 * every source offset), and the rows whose target order breaks their direction's source order.
 */
async function inSourceOffsets(
  store: Store,
  topic: string,
  partition: number,
  tr: { sinceOffset: number; targetStart: number },
  digests: Digest[],
): Promise<{ digests: Digest[]; reordered: number }> {
  const toSource = new Map<number, number>();
  const targetsInSourceOrder: number[] = [];
  for (let from = tr.sinceOffset; ; ) {
    const rows = await store.offsetMap(topic, partition, from, 100_000);
    for (const row of rows) {
      toSource.set(row.targetOffset, row.sourceOffset);
      targetsInSourceOrder.push(row.targetOffset);
    }
    if (rows.length < 100_000) break;
    from = rows[rows.length - 1]!.sourceOffset + 1;
  }
  const reordered = outOfOrder(targetsInSourceOrder);
  const out = digests.map((d) => {
    if (d.offset < tr.targetStart) return d; // identical offsets below the switch
    const mapped = toSource.get(d.offset);
    return { offset: mapped ?? Number.MAX_SAFE_INTEGER - d.offset, hash: d.hash };
  });
  return { digests: out.sort((a, b) => a.offset - b.offset), reordered };
}

/**
 * I3 without knowing who wrote what: each direction keeps its order, so in source order the
 * target offsets are two increasing runs merged, which holds exactly when no three of them
 * decrease. Counts the rows in the middle of such a triple.
 */
export function outOfOrder(t: number[]): number {
  const suffixMin = new Array<number>(t.length);
  let min = Infinity;
  for (let i = t.length - 1; i >= 0; i--) suffixMin[i] = min = Math.min(min, t[i]!);
  let count = 0;
  let max = -Infinity;
  for (let i = 0; i < t.length; i++) {
    if (max > t[i]! && i + 1 < t.length && t[i]! > suffixMin[i + 1]!) count++;
    max = Math.max(max, t[i]!);
  }
  return count;
}

function compare(
  topic: string,
  r: { partition: number; source: PartitionVerdict["source"]; target: PartitionVerdict["target"]; from: number; to: number },
  src: Digest[],
  tgt: Digest[],
): PartitionVerdict {
  const v: PartitionVerdict = { topic, ...r, compared: 0, mismatched: 0, missingOnTarget: 0, extraOnTarget: 0, reordered: 0, firstDifference: null };
  const note = (offset: number, what: string) => (v.firstDifference ??= { offset, what });
  let i = 0;
  let j = 0;
  while (i < src.length || j < tgt.length) {
    const a = src[i];
    const b = tgt[j];
    if (a && b && a.offset === b.offset) {
      v.compared++;
      if (a.hash !== b.hash) {
        v.mismatched++;
        note(a.offset, "key, value, headers or timestamp differ");
      }
      i++;
      j++;
    } else if (a && (!b || a.offset < b.offset)) {
      v.missingOnTarget++;
      note(a.offset, b ? `source record has no target record at the same offset (next target record at ${b.offset})` : "source record missing on the target");
      i++;
    } else {
      v.extraOnTarget++;
      note(b!.offset, a ? `target record has no source record at the same offset (next source record at ${a.offset})` : "target record not on the source");
      j++;
    }
  }
  return v;
}

/**
 * Digests of up to `max` records of one partition from offset `from` (read_committed), below `to`
 * or else until its end. The end is seen only when a fetch comes back empty, which may never
 * happen while producers write steadily: pass `to` where that matters.
 */
export async function readDigests(cluster: Cluster, topic: string, partition: number, from: number, max: number, to = Number.MAX_SAFE_INTEGER): Promise<Digest[]> {
  const found = await readRanges(cluster, topic, [{ partition, from, to, max }]);
  return found.get(partition)!;
}

/** Reads [from, to) of every partition (read_committed, at most `max` records) into per-partition digest lists. */
export async function readRanges(cluster: Cluster, topic: string, ranges: Array<{ partition: number; from: number; to: number; max?: number }>): Promise<Map<number, Digest[]>> {
  const out = new Map<number, Digest[]>(ranges.map((r) => [r.partition, []]));
  const open = new Map(ranges.filter((r) => r.to > r.from).map((r) => [r.partition, r]));
  if (open.size === 0) return out;
  const consumer = new Consumer({ ...cluster.config, "enable.partition.eof": true, "isolation.level": "read_committed" }, cluster.options);
  try {
    consumer.assign([...open.values()].map((r) => ({ topic, partition: r.partition, offset: r.from })));
    while (open.size > 0) {
      for (const m of await consumer.consume(5000, 500)) {
        try {
          const r = open.get(m.partition);
          if (!r) continue;
          if (m.errorCode === -191) {
            open.delete(m.partition); // this side's end: anything after it is missing here
            continue;
          }
          if (m.errorCode) throw m.error;
          if (m.offset >= r.to) {
            open.delete(m.partition);
            continue;
          }
          const list = out.get(m.partition)!;
          list.push({ offset: m.offset, hash: recordDigest(m) });
          if (r.max !== undefined && list.length >= r.max) open.delete(m.partition);
        } finally {
          m.destroy();
        }
      }
    }
  } finally {
    consumer.close();
  }
  return out;
}
