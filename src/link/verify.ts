/**
 * Verify: compares source and target partition by partition, with a digest of (key, value,
 * headers, timestamp) per record: at equal offsets in exact mode, through the offset map in
 * translate mode, as klink's state says. Both sides are read `read_committed`, as a consumer of
 * either cluster would see them. */
import { toArrayBuffer } from "bun:ffi";
import { Admin, Consumer, OffsetSpec, type ConsumedMessage } from "../rdkafka/index.ts";
import type { OffsetMode, PartitionState, Store } from "../state/store.ts";
import type { Cluster } from "./cluster.ts";
import { FILLER_KEY } from "./fillers.ts";
import { storedPartition } from "./partition/state.ts";

export interface PartitionEnds {
  logStartOffset: number;
  /** Last stable offset: where read_committed readers end. */
  end: number;
  /** High watermark: the log end offset. */
  highWatermark: number;
}

export interface PartitionVerdict {
  topic: string;
  partition: number;
  /** As stored in the state (exact when there is none): exact is compared offset by offset, translate through the offset map. */
  mode: OffsetMode;
  source: PartitionEnds;
  target: PartitionEnds;
  /** Exact mode: where the target's log must start (the source's log start, or the link's start offset when later). */
  expectedLogStart: number | null;
  /** Compared range [from, to). */
  from: number;
  to: number;
  compared: number;
  mismatched: number;
  missingOnTarget: number;
  extraOnTarget: number;
  /** Offset-map rows of one direction whose order differs between the clusters (I3). */
  reordered: number;
  /**
   * Records on both clusters at different offsets, and the first few of them. In exact mode each
   * is a difference (also counted as missing and only on target); in translate mode it is what
   * the offset map is for, reported but not a difference.
   */
  notAtSourceOffset: number;
  notAtSourceOffsetExamples: Array<{ sourceOffset: number; targetOffset: number }>;
  /** The first difference: an offset and what differs there. */
  firstDifference: { offset: number; what: string } | null;
}

/** What differs, one phrase each; empty when the partition is identical (through the offset map in translate mode). */
export function differences(v: PartitionVerdict): string[] {
  const out = logDifferences(v);
  if (v.mismatched) out.push(`${v.mismatched} records differ`);
  if (v.missingOnTarget) out.push(`${v.missingOnTarget} missing on target`);
  if (v.extraOnTarget) out.push(`${v.extraOnTarget} only on target`);
  if (v.mode === "exact" && v.notAtSourceOffset) out.push(`${v.notAtSourceOffset} at another offset on the target`);
  if (v.reordered) out.push(`${v.reordered} out of their producer's order`);
  return out;
}

/** Exact mode: log start and log end offsets that differ (in translate mode they may, by design). */
export function logDifferences(v: PartitionVerdict): string[] {
  const out: string[] = [];
  if (v.mode === "exact" && v.target.logStartOffset !== v.expectedLogStart) {
    out.push(v.expectedLogStart === v.source.logStartOffset
      ? `log start offsets differ: source ${v.source.logStartOffset}, target ${v.target.logStartOffset}`
      : `log start offsets differ: target ${v.target.logStartOffset}, expected ${v.expectedLogStart} (the link's start; the source's log start is ${v.source.logStartOffset})`);
  }
  if (v.mode === "exact" && v.source.highWatermark !== v.target.highWatermark) {
    out.push(`log end offsets differ: source ${v.source.highWatermark}, target ${v.target.highWatermark}`);
  }
  return out;
}

export function identical(v: PartitionVerdict): boolean {
  return differences(v).length === 0;
}

/** A record's offset, the digest of all of it, and of its key alone (null: no key). */
export type Digest = { offset: number; hash: bigint; key: bigint | null };

const FILLER_KEY_BYTES = Buffer.from(FILLER_KEY);

/** One of klink's filler records (key klink.filler, no value). */
function isFiller(m: ConsumedMessage): boolean {
  return m.valuePointer === 0 && m.keyLength === FILLER_KEY_BYTES.length && FILLER_KEY_BYTES.equals(view(m.keyPointer, m.keyLength));
}

function view(p: number, len: number): Uint8Array {
  return len ? new Uint8Array(toArrayBuffer(p as never, 0, len)) : new Uint8Array(0);
}

/** Digest of one record, read in place (no copy of key or value into JS memory). */
export function recordDigest(m: ConsumedMessage): bigint {
  // The timestamp's value, not its type: a LogAppendTime source topic's copy keeps the same
  // timestamps in a CreateTime target topic (topic-create.ts).
  const { timestamp } = m.timestamp();
  let h = Bun.hash.wyhash(`${timestamp}/${m.keyPointer ? "k" : "-"}${m.valuePointer ? "v" : "-"}`);
  if (m.keyPointer) h = Bun.hash.wyhash(view(m.keyPointer, m.keyLength), h);
  if (m.valuePointer) h = Bun.hash.wyhash(view(m.valuePointer, m.valueLength), h);
  for (const [name, value] of m.headers()) {
    h = Bun.hash.wyhash(name, h);
    h = value === null ? Bun.hash.wyhash("\u0000null", h) : Bun.hash.wyhash(value, h);
  }
  return h;
}

/**
 * Compares every partition of `topic`, in the mode the state stores for it (exact without state).
 * Exact partitions: every record at its source offset, the target's log starting where the
 * source's does (or at the link's start offset) and ending at the same offset. Translate
 * partitions are compared through the offset map: each target record is checked against the
 * source record its row names, so in dual write (where the clusters' orders differ) every record
 * must be on both clusters once and byte-identical; each direction's rows must keep their order
 * on both clusters (I3); and the records not at their source offset are counted.
 */
export async function verifyTopic(source: Cluster, target: Cluster, topic: string, store?: Store): Promise<PartitionVerdict[]> {
  const ends = await partitionEnds(source, target, topic);
  const states = new Map((store ? await store.partitions(topic) : []).map((p) => [p.partition, p]));
  const plans = await Promise.all(ends.map((e) => planPartition(store, topic, e, states.get(e.partition))));
  const [sourceDigests, targetDigests] = await Promise.all([
    readRanges(source, topic, plans.map((p) => ({ partition: p.partition, from: p.sourceFrom, to: p.to }))),
    readRanges(target, topic, plans.map((p) => ({ partition: p.partition, from: p.targetFrom, to: p.to }))),
  ]);
  const verdicts: PartitionVerdict[] = [];
  for (const plan of plans) {
    const found = targetDigests.get(plan.partition)!;
    let tgt: TargetDigest[] = found.map((d) => ({ ...d, targetOffset: d.offset }));
    let reordered = 0;
    if (plan.translated) ({ digests: tgt, reordered } = await inSourceOffsets(store!, topic, plan.partition, plan.translated, found));
    const v = compare(topic, plan, sourceDigests.get(plan.partition)!, tgt);
    v.reordered = reordered;
    if (reordered && !v.firstDifference) v.firstDifference = { offset: v.from, what: `${reordered} records are out of their producer's order on one of the clusters` };
    verdicts.push(v);
  }
  return verdicts;
}

/** Log start, last stable offset and high watermark of every partition on both clusters. */
async function partitionEnds(source: Cluster, target: Cluster, topic: string): Promise<Array<{ partition: number; source: PartitionEnds; target: PartitionEnds }>> {
  const sourceAdmin = new Admin(source.config, source.options);
  const targetAdmin = new Admin(target.config, target.options);
  try {
    const [desc] = await sourceAdmin.describeTopics([topic]);
    const tps = desc!.partitions.map((p) => ({ topic, partition: p.partition }));
    const ask = (admin: Admin, offset: number, readCommitted: boolean) => admin.listOffsets(tps.map((tp) => ({ ...tp, offset })), readCommitted);
    const [s, t, sEnd, tEnd, sHigh, tHigh] = await Promise.all([
      ask(sourceAdmin, OffsetSpec.EARLIEST, true), ask(targetAdmin, OffsetSpec.EARLIEST, true),
      ask(sourceAdmin, OffsetSpec.LATEST, true), ask(targetAdmin, OffsetSpec.LATEST, true),
      ask(sourceAdmin, OffsetSpec.LATEST, false), ask(targetAdmin, OffsetSpec.LATEST, false),
    ]);
    const at = (list: typeof s, p: number) => list.find((x) => x.partition === p)!.offset;
    return tps.map(({ partition }) => ({
      partition,
      source: { logStartOffset: at(s, partition), end: at(sEnd, partition), highWatermark: at(sHigh, partition) },
      target: { logStartOffset: at(t, partition), end: at(tEnd, partition), highWatermark: at(tHigh, partition) },
    }));
  } finally {
    sourceAdmin.close();
    targetAdmin.close();
  }
}

/** A translate-mode partition as stored: where the offset map begins on each side, and whether the offsets below are identical. */
interface Translated {
  sinceOffset: number;
  targetStart: number;
  identicalBelow: boolean;
}

interface Plan {
  partition: number;
  mode: OffsetMode;
  source: PartitionEnds;
  target: PartitionEnds;
  expectedLogStart: number | null;
  translated: Translated | null;
  /** Where each side is read from, and up to where (both). */
  sourceFrom: number;
  targetFrom: number;
  to: number;
}

/** Which ranges to read and how to compare them, from the partition's stored state. */
async function planPartition(store: Store | undefined, topic: string, ends: { partition: number; source: PartitionEnds; target: PartitionEnds }, state: PartitionState | undefined): Promise<Plan> {
  const { source, target } = ends;
  const to = Math.max(source.end, target.end);
  if (state?.mode !== "translate") {
    // The target starts at the source's log start, or at the link's start offset when later.
    const expectedLogStart = Math.max(source.logStartOffset, state?.sinceOffset ?? 0);
    return { ...ends, mode: "exact", expectedLogStart, translated: null, sourceFrom: expectedLogStart, targetFrom: target.logStartOffset, to };
  }
  const stored = await storedPartition(store!, topic, ends.partition);
  const targetStart = stored?.targetStart ?? 0;
  const identicalBelow = (stored?.identicalBelow ?? null) !== null;
  const translated = { sinceOffset: state.sinceOffset, targetStart, identicalBelow };
  // With identical offsets below the switch both sides are read from the same offset; otherwise
  // the source from the mapped start, the target from where klink began appending.
  const common = Math.max(source.logStartOffset, target.logStartOffset);
  const sourceFrom = identicalBelow ? common : Math.max(source.logStartOffset, state.sinceOffset);
  const targetFrom = identicalBelow ? common : Math.max(target.logStartOffset, targetStart);
  return { ...ends, mode: "translate", expectedLogStart: null, translated, sourceFrom, targetFrom, to };
}

/** A target record's digest, placed at the source offset it is compared with (its own offset in exact mode; Infinity: no source offset). */
type TargetDigest = Digest & { targetOffset: number };

/**
 * Target digests renumbered with the source offsets the offset map gives them (unmapped: after
 * every source offset), and the rows whose target order breaks their direction's source order.
 */
async function inSourceOffsets(store: Store, topic: string, partition: number, tr: Translated, digests: Digest[]): Promise<{ digests: TargetDigest[]; reordered: number }> {
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
    // identical offsets below the switch
    const offset = tr.identicalBelow && d.offset < tr.targetStart ? d.offset : (toSource.get(d.offset) ?? Infinity);
    return { offset, hash: d.hash, key: d.key, targetOffset: d.offset };
  });
  return { digests: out.sort((a, b) => a.offset - b.offset || a.targetOffset - b.targetOffset), reordered };
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

const EXAMPLES = 5;

/** Merges both sides by (source) offset: records equal, different, on one side only, or on both at other offsets. */
function compare(topic: string, plan: Plan, src: Digest[], tgt: TargetDigest[]): PartitionVerdict {
  const { partition, mode, source, target, expectedLogStart, to } = plan;
  const v: PartitionVerdict = {
    topic, partition, mode, source, target, expectedLogStart, from: Math.min(plan.sourceFrom, plan.targetFrom), to,
    compared: 0, mismatched: 0, missingOnTarget: 0, extraOnTarget: 0, reordered: 0, notAtSourceOffset: 0, notAtSourceOffsetExamples: [], firstDifference: null,
  };
  const elsewhere = (sourceOffset: number, targetOffset: number) => {
    v.notAtSourceOffset++;
    if (v.notAtSourceOffsetExamples.length < EXAMPLES) v.notAtSourceOffsetExamples.push({ sourceOffset, targetOffset });
  };
  const onlySource: Digest[] = [];
  const onlyTarget: TargetDigest[] = [];
  let first: { kind: "differ" | "missing" | "extra"; a?: Digest; b?: TargetDigest } | null = null;
  let i = 0;
  let j = 0;
  while (i < src.length || j < tgt.length) {
    const a = src[i];
    const b = tgt[j];
    if (a && b && a.offset === b.offset) {
      v.compared++;
      if (a.hash !== b.hash) {
        v.mismatched++;
        first ??= { kind: "differ", a, b };
        onlySource.push(a);
        onlyTarget.push(b);
      } else if (b.targetOffset !== a.offset) {
        elsewhere(a.offset, b.targetOffset); // translate mode: where the offset map placed it
      }
      i++;
      j++;
    } else if (a && (!b || a.offset < b.offset)) {
      v.missingOnTarget++;
      first ??= { kind: "missing", a };
      onlySource.push(a);
      i++;
    } else {
      v.extraOnTarget++;
      first ??= { kind: "extra", b };
      onlyTarget.push(b!);
      j++;
    }
  }
  // Exact mode: source records that are on the target at another offset (shifted copies).
  const movedTo = new Map<number, number>();
  const movedFrom = new Map<number, number>();
  if (mode === "exact" && onlySource.length && onlyTarget.length) {
    const byHash = new Map<bigint, number[]>();
    for (const b of onlyTarget) {
      const list = byHash.get(b.hash);
      if (list) list.push(b.targetOffset);
      else byHash.set(b.hash, [b.targetOffset]);
    }
    for (const a of onlySource) {
      const t = byHash.get(a.hash)?.shift();
      if (t === undefined || t === a.offset) continue;
      movedTo.set(a.offset, t);
      movedFrom.set(t, a.offset);
      elsewhere(a.offset, t);
    }
  }
  if (first?.a) {
    const at = movedTo.get(first.a.offset);
    const moved = at === undefined ? "" : `the source record is at target offset ${at}`;
    const what = first.kind === "differ" ? `key, value, headers or timestamp differ${moved && `; ${moved}`}` : moved || "source record missing on the target";
    v.firstDifference = { offset: first.a.offset, what };
  } else if (first?.b) {
    const b = first.b;
    const from = movedFrom.get(b.targetOffset);
    if (!Number.isFinite(b.offset)) v.firstDifference = { offset: b.targetOffset, what: "target record not on the source (no offset-map row names it)" };
    else {
      const record = b.offset === b.targetOffset ? "target record" : `target record at target offset ${b.targetOffset}`;
      v.firstDifference = { offset: b.offset, what: from === undefined ? `${record} not on the source` : `${record} is the source record at offset ${from}` };
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

/** How readRanges reads: `read_committed` (what consumers see), or every record but klink's fillers (what klink wrote to a target in exact mode, committed or not). */
export type ReadMode = "committed" | "written";

/** Reads [from, to) of every partition (at most `max` records) into per-partition digest lists. */
export async function readRanges(cluster: Cluster, topic: string, ranges: Array<{ partition: number; from: number; to: number; max?: number }>, mode: ReadMode = "committed"): Promise<Map<number, Digest[]>> {
  const out = new Map<number, Digest[]>(ranges.map((r) => [r.partition, []]));
  const open = new Map(ranges.filter((r) => r.to > r.from).map((r) => [r.partition, r]));
  if (open.size === 0) return out;
  const consumer = new Consumer({ ...cluster.config, "enable.partition.eof": true, "isolation.level": mode === "committed" ? "read_committed" : "read_uncommitted" }, cluster.options);
  try {
    consumer.assign([...open.values()].map((r) => ({ topic, partition: r.partition, offset: r.from })));
    while (open.size > 0) {
      for (const m of await consumer.consume(5000, 500)) {
        try {
          const r = open.get(m.partition);
          if (!r) continue;
          if (m.isPartitionEof) {
            open.delete(m.partition); // this side's end: anything after it is missing here
            continue;
          }
          if (m.errorCode) throw m.error;
          if (m.offset >= r.to) {
            open.delete(m.partition);
            continue;
          }
          if (mode === "written" && isFiller(m)) continue;
          const list = out.get(m.partition)!;
          list.push({ offset: m.offset, hash: recordDigest(m), key: m.keyPointer ? Bun.hash.wyhash(view(m.keyPointer, m.keyLength)) : null });
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
