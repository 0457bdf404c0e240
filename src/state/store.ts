/**
 * The migration's state: the lifecycle of each linked topic, group and partition, the offset map
 * (each copied record's offset on both clusters), and the Store that keeps them. link/, plan/,
 * status/ and commands/ work with these; a storage plugin (plugins/storage/) implements Store,
 * and plugins/plugin.ts re-exports all of it as part of the plugin contract.
 */

/**
 * A linked topic's lifecycle (docs/lifecycle.md): rollback is possible in every state before a
 * promote; `promoted-replica` (link.failback) is promoted with the source kept as a live replica,
 * so `klink failback` can still move clients back; `promoted` is final.
 */
export type TopicLifecycle = "mirroring" | "dual-write" | "consumers-moving" | "promoted-replica" | "promoted" | "rolled-back";

/** The target is the authority for a topic in this state: nothing (configs, ACLs) is synced to it from the source. */
export function targetIsPrimary(state: TopicLifecycle | null | undefined): boolean {
  return state === "promoted" || state === "promoted-replica";
}
/** A linked group's handoff: watched, held on the target (fenced), handed off, or moved back. */
export type GroupLifecycle = "watching" | "fenced" | "handed-off" | "rolled-back";
export type OffsetMode = "exact" | "translate";

export interface TopicState {
  topic: string;
  state: TopicLifecycle;
  /** Free text for `klink status` (why the state changed). */
  detail: string | null;
  /** Epoch ms of the last change. */
  updatedAt: number;
}

export interface GroupState {
  group: string;
  state: GroupLifecycle;
  detail: string | null;
  updatedAt: number;
}

export interface PartitionState {
  topic: string;
  partition: number;
  mode: OffsetMode;
  /** The source offset from which `mode` holds (a partition may fall back to translate mid-way). */
  sinceOffset: number;
  detail: string | null;
  updatedAt: number;
}

/**
 * One copied record: its offset on each cluster. `origin` says where it was first written:
 * "source" (copied by the Fetcher) or "target" (produced to the target, copied back by the Router).
 */
export interface OffsetMapRow {
  topic: string;
  partition: number;
  sourceOffset: number;
  targetOffset: number;
  origin: "source" | "target";
}

/** Thrown by a storage plugin's `create` when another instance holds the state for writing (`klink run` exits 2). */
export class StateInUseError extends Error {
  override name = "StateInUseError";
}

/** One change; a batch of them is applied atomically (all or none, also across kill -9). */
export type StoreWrite =
  | { put: string; value: string | null }
  | { topic: string; state: TopicLifecycle; detail?: string | null }
  | { group: string; state: GroupLifecycle; detail?: string | null }
  | { partition: { topic: string; partition: number }; mode: OffsetMode; sinceOffset: number; detail?: string | null }
  | { offsets: OffsetMapRow[] };

/**
 * Where migration state lives. Once `write` resolves, the change survives kill -9 of klink.
 * Methods may be called concurrently; writes are applied in call order.
 *
 * One writer per link: a store opened for writing either refuses while another instance has it
 * (`create` throws StateInUseError; storage/sqlite) or takes it over and tells the old instance
 * through `fenced` (storage/kafka).
 */
export interface Store {
  /** Where the state is, for messages ("/srv/klink/migration.klink.db"). */
  readonly location: string;
  /**
   * Resolves (never rejects) once another instance has taken this state over for writing. From
   * then on writes fail, and the instance must stop writing to the clusters at once: `klink run`
   * stops copying and exits 2 with the error's message. Absent: the store never hands over.
   */
  readonly fenced?: Promise<Error>;
  write(changes: StoreWrite[]): Promise<void>;

  get(key: string): Promise<string | null>;
  topics(): Promise<TopicState[]>;
  groups(): Promise<GroupState[]>;
  partitions(topic?: string): Promise<PartitionState[]>;

  /**
   * Translation through the offset map: among the rows at or after `offset` on the `from` side,
   * the one with the lowest offset on the other side. A group committed at source offset c (next
   * record to read) resumes on the target at `(await seek("source", t, p, c))?.targetOffset`: no
   * record the group had not consumed is skipped, also where dual write made the two clusters'
   * orders differ. null when no row is at or after `offset`.
   */
  seek(from: "source" | "target", topic: string, partition: number, offset: number): Promise<OffsetMapRow | null>;
  /** The row with the highest offset on the `side` given, optionally only those of one origin. */
  last(side: "source" | "target", topic: string, partition: number, origin?: OffsetMapRow["origin"]): Promise<OffsetMapRow | null>;
  /** Rows in `side`-offset order (default source) from offset `from` on that side, at most `limit` (export, verify, restart). */
  offsetMap(topic: string, partition: number, from: number, limit: number, side?: "source" | "target"): Promise<OffsetMapRow[]>;

  close(): Promise<void>;

  /** Optional, for `klink plan` (a read-only open): why `klink run` could not write this state, if the store can tell. */
  writeProblem?(): string | null;
}
