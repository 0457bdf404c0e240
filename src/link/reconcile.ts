/**
 * What a restart must find out before copying again, from the records themselves:
 *
 * - `findDivergence`: where an exact-mode target partition stops being an exact copy of the
 *   source (producers wrote to the target while klink was stopped, or a crash hit the switch to
 *   dual write before it was stored).
 * - `reconcile`: in dual write, the copies whose delivery reports were lost with a killed klink.
 *   Such a copy sits after its lane's stored position on the written side, and its original
 *   after the other lane's position: a record after the positions found on *both* clusters is
 *   one record already copied (paired by content: key, value, headers, timestamp).
 */
import { Admin, OffsetSpec } from "../rdkafka/index.ts";
import type { OffsetMapRow, Store } from "../state/store.ts";
import type { Cluster } from "./cluster.ts";
import { readDigests, type Digest } from "./verify.ts";
import { CoalescedReads } from "./coalesced-reads.ts";

/** The tail checks of partitions resumed together read their records with one consumer per cluster. */
const tailReads = new CoalescedReads();

/** Source and target offsets at or after the positions that the offset map already pairs, and the pairs found now. */
export interface Reconciled {
  /** Source offsets at or after `fetchFrom` that are already on the target (the Fetcher skips them). */
  sourceCopied: number[];
  /** Target offsets at or after `routeFrom` that are already on the source (the Router skips them). */
  targetCopied: number[];
  /** Rows added for copies found by content. */
  found: OffsetMapRow[];
}

export async function reconcile(
  store: Store,
  source: Cluster,
  target: Cluster,
  topic: string,
  partition: number,
  fetchFrom: number,
  routeFrom: number,
): Promise<Reconciled> {
  // Up to a fixed point read first: the stopped klink wrote nothing after it, and what producers
  // write meanwhile is for the Fetcher and the Router to decide. A read "to the end" would not
  // finish while producers keep writing (a reader sees the end only when a fetch comes back empty).
  const [sourceEnd, targetEnd] = await Promise.all([lastStableOffset(source, topic, partition), lastStableOffset(target, topic, partition)]);
  const [bySource, byTarget, sourceTail, targetTail] = await Promise.all([
    allRows(store, topic, partition, fetchFrom, "source"),
    allRows(store, topic, partition, routeFrom, "target"),
    readDigests(source, topic, partition, fetchFrom, Infinity, sourceEnd),
    readDigests(target, topic, partition, routeFrom, Infinity, targetEnd),
  ]);
  const mappedSource = new Set(bySource.map((r) => r.sourceOffset));
  const mappedTarget = new Set(byTarget.map((r) => r.targetOffset));
  // Unpaired source records by content, in offset order: the k-th equal target record pairs with the k-th.
  const unpaired = new Map<bigint, number[]>();
  for (const d of sourceTail) {
    if (mappedSource.has(d.offset)) continue;
    const list = unpaired.get(d.hash);
    if (list) list.push(d.offset);
    else unpaired.set(d.hash, [d.offset]);
  }
  const found: OffsetMapRow[] = [];
  const lastFetched = await store.last("source", topic, partition, "source");
  let fetchedAt = lastFetched ? { s: lastFetched.sourceOffset, t: lastFetched.targetOffset } : { s: -1, t: -1 };
  for (const d of targetTail) {
    if (mappedTarget.has(d.offset)) continue;
    const sourceOffset = unpaired.get(d.hash)?.shift();
    if (sourceOffset === undefined) continue;
    // Who wrote it is not recorded; the Fetcher's copies keep the source order, so a pair that
    // continues that order is counted as the Fetcher's (only verify's order check uses it).
    const origin = sourceOffset > fetchedAt.s && d.offset > fetchedAt.t ? "source" : "target";
    if (origin === "source") fetchedAt = { s: sourceOffset, t: d.offset };
    found.push({ topic, partition, sourceOffset, targetOffset: d.offset, origin });
  }
  if (found.length) await store.write([{ offsets: found }]);
  const sourceCopied = [...mappedSource, ...found.map((r) => r.sourceOffset)].sort((a, b) => a - b);
  const targetCopied = [...mappedTarget, ...found.map((r) => r.targetOffset)].sort((a, b) => a - b);
  return { sourceCopied, targetCopied, found };
}

/** The partition's last stable offset now (what a read_committed reader can reach). */
async function lastStableOffset(cluster: Cluster, topic: string, partition: number): Promise<number> {
  const admin = new Admin(cluster.config, cluster.options);
  try {
    const [end] = await admin.listOffsets([{ topic, partition, offset: OffsetSpec.LATEST }], true);
    return end!.offset;
  } finally {
    admin.close();
  }
}

async function allRows(store: Store, topic: string, partition: number, from: number, side: "source" | "target"): Promise<OffsetMapRow[]> {
  const out: OffsetMapRow[] = [];
  for (;;) {
    const rows = await store.offsetMap(topic, partition, from, 100_000, side);
    out.push(...rows);
    if (rows.length < 100_000) return out;
    const last = rows[rows.length - 1]!;
    from = (side === "source" ? last.sourceOffset : last.targetOffset) + 1;
  }
}

/**
 * The first offset below `high` from which the target partition is no longer the source's
 * records at the same offsets (`high` when it is an exact copy up to there). Invisible slots
 * (fillers, markers) count as equal when both sides have no record there.
 */
export async function findDivergence(source: Cluster, sourceAdmin: Admin, target: Cluster, topic: string, partition: number, low: number, high: number): Promise<number> {
  if (high <= low) return high;
  const facts = await sourceFacts(sourceAdmin, topic, partition);
  // Usually the tail is equal: one look at the last 50 offsets settles it.
  const differs = await firstDifference(source, target, topic, partition, Math.max(low, high - 50), high, 50, facts);
  if (differs === null) return high;
  // Equal up to the divergence, different from it on: the smallest offset that differs.
  let lo = low;
  let hi = differs;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await firstDifference(source, target, topic, partition, mid, high, 1, facts)) === null) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** What decides whether a record only one side has is a difference. */
interface SourceFacts {
  logStart: number;
  /** The last stable offset: no record was ever at or past it. */
  end: number;
  /** The source topic's cleanup.policy has compact (klink creates the target's alike): cleaners remove records on both clusters. */
  compacted: boolean;
}

async function sourceFacts(admin: Admin, topic: string, partition: number): Promise<SourceFacts> {
  const [[logStart], [end], configs] = await Promise.all([
    admin.listOffsets([{ topic, partition, offset: OffsetSpec.EARLIEST }]),
    admin.listOffsets([{ topic, partition, offset: OffsetSpec.LATEST }], true),
    admin.describeTopicConfigs(topic),
  ]);
  const policy = configs.find((c) => c.name === "cleanup.policy")?.value ?? "delete";
  return { logStart: logStart!.offset, end: end!.offset, compacted: policy.includes("compact") };
}

/**
 * Where the first `count` records below `high` from `from` differ between the clusters (null: the
 * same), offset by offset. The target is read as klink wrote it, committed or not, fillers left
 * out: a filler transaction a stopped klink left open hides the records after it from committed
 * readers. klink wrote a record or a filler at every target offset below `high`, so a record only
 * one side has is a difference only where no log cleaner explains it (docs/offsets.md, "Restart"):
 * - only the source has it: the target's cleaner removed klink's copy (compacted topics);
 * - only the target has it: the source's cleaner removed the original after klink copied it (or
 *   a tombstone that had replaced it, later removed too), or retention removed it below the
 *   source's log start. At or past the source's end no record was ever copied: a producer's.
 */
async function firstDifference(source: Cluster, target: Cluster, topic: string, partition: number, from: number, high: number, count: number, facts: SourceFacts): Promise<number | null> {
  const range = { partition, from, to: high, max: count };
  const [a, b] = await Promise.all([tailReads.read(source, topic, range), tailReads.read(target, topic, range, "written")]);
  // A side that read `count` records says nothing past its last one.
  let bound = high;
  if (a.length === count) bound = Math.min(bound, a.at(-1)!.offset + 1);
  if (b.length === count) bound = Math.min(bound, b.at(-1)!.offset + 1);
  for (let i = 0, j = 0; ; ) {
    const x = i < a.length && a[i]!.offset < bound ? a[i]! : null;
    const y = j < b.length && b[j]!.offset < bound ? b[j]! : null;
    if (!x && !y) return null;
    if (x && y && x.offset === y.offset) {
      if (x.hash !== y.hash) return x.offset;
      i++, j++;
    } else if (x && (!y || x.offset < y.offset)) {
      if (!facts.compacted) return x.offset; // nothing removes a copy of a topic that is not compacted
      i++;
    } else {
      const removedOnSource = y!.offset < facts.end && (facts.compacted || y!.offset < facts.logStart);
      if (!removedOnSource) return y!.offset;
      j++;
    }
  }
}
