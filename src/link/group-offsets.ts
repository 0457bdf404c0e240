/**
 * Where a consumer group's committed offset lands on the other cluster (handoff, rollback): the
 * same offset while offsets are identical, through the offset map in translate mode, and only
 * once everything before it was copied (docs/offsets.md, "When offsets cannot stay identical").
 */
import type { Admin } from "../rdkafka/index.ts";
import type { Store } from "../state/store.ts";
import type { Ledger } from "./ledger.ts";
import type { LinkedPartition } from "./partition/partition.ts";
import { storedPartitions } from "./partition/state.ts";
import { mapOffset } from "./partition/translate.ts";

export interface GroupOffsetContext {
  topic: string;
  partition: number;
  /** The linked partition (undefined: not linked in this run). */
  p: LinkedPartition | undefined;
  ledger: Ledger;
  store: Store;
  targetAdmin: Admin;
}

/**
 * Where a consumer group committed at source offset `offset` resumes on the target: the lowest
 * target offset among the records at or after `offset` (so nothing the group had not read is
 * skipped), once every source record before `offset` is on the target; null until then.
 */
export async function groupOffsetOnTarget(c: GroupOffsetContext, offset: number): Promise<number | null> {
  const { p, topic, partition } = c;
  if (!p || !p.copying) return null;
  const lanes = p.lanes;
  if (lanes) await c.ledger.flush(true); // a switch to translate mode noted but not stored yet
  const stored = lanes ? (await storedPartitions(c.store, topic)).get(partition) : undefined;
  if (!lanes || offset < (stored?.identicalBelow ?? -1)) {
    // Identical offsets: the target must hold everything before `offset`.
    const [mark] = await c.targetAdmin.watermarks([{ topic, partition }]);
    return mark!.high >= offset && (lanes || p.next >= offset) ? offset : null;
  }
  // Positions first, then the rows behind them: a row acknowledged after the snapshot is
  // above the snapshot's positions and cannot lower the answer.
  const fetched = lanes.fetch.position();
  // The Router has not decided target offsets from its position on; the Fetcher's own copies
  // among them were read on the source already, the first other one may not have been.
  const routed = lanes.fetch.wrote.firstAbsentFrom(lanes.route.position());
  if (fetched < offset) return null;
  await c.ledger.flush(true);
  const mapped = await mapOffset(c.store, stored!, offset, "source");
  return Math.min(mapped.translated ?? Infinity, routed);
}

/**
 * Rollback: where a group committed at target offset `offset` resumes on the source, once every
 * target record before `offset` is on the source; null until then.
 */
export async function groupOffsetOnSource(c: GroupOffsetContext, offset: number): Promise<number | null> {
  const { p, topic, partition } = c;
  if (!p || !p.copying) return null;
  const lanes = p.lanes;
  if (!lanes) return offset; // exact: the target holds only copies of source records
  await c.ledger.flush(true); // a switch to translate mode noted but not stored yet
  const stored = (await storedPartitions(c.store, topic)).get(partition)!;
  if (offset < (stored.identicalBelow ?? -1)) return offset;
  const routedUpTo = lanes.route.position();
  if (routedUpTo < offset) return null;
  const fetched = lanes.route.wrote.firstAbsentFrom(lanes.fetch.position());
  await c.ledger.flush(true);
  const mapped = await mapOffset(c.store, stored, offset, "target");
  return Math.min(mapped.translated ?? Infinity, fetched);
}
