/**
 * What a worker tells the worker group (JoinGroup metadata) and what the leader hands each
 * worker (SyncGroup assignment): small JSON documents, readable as they are wherever a
 * DescribeGroups answer shows a member's metadata and assignment bytes.
 */
import type { PartitionKey } from "./assignment.ts";

export const WORKER_PROTOCOL_TYPE = "klink-worker";
/** The one assignor every worker offers; a new name is how a later klink would change the rules. */
export const WORKER_PROTOCOL = "klink-cooperative-v1";

export interface WorkerInfo {
  host: string;
  pid: number;
  /** The worker's status address (`status.listen`), when it serves one. */
  status?: string | null;
}

export interface WorkerMetadata {
  version: 1;
  worker: WorkerInfo;
  /** What the worker owns now: the leader keeps these with it where it can. */
  owned: PartitionKey[];
  /** link.spread, from the runner (the owner of link/0): every partition of the link. */
  units?: PartitionKey[];
  /** link.spread, from the runner: the partitions that must stay with it. */
  kept?: PartitionKey[];
  /** link.spread: partitions this worker could not copy on; they go back to the runner. */
  returned?: PartitionKey[];
  /**
   * link.spread: partitions this worker let go of cleanly (every write it sent was answered) when
   * the round of `generation` took them from it; their next owner need not wait.
   */
  released?: { generation: number; partitions: PartitionKey[] };
  /** This worker is about to leave the group: give it nothing. */
  leaving?: boolean;
}

export interface WorkerAssignment {
  version: 1;
  partitions: PartitionKey[];
  /** Partitions held back this round until their owner lets go of them. */
  moving: number;
  /** link.spread: how many partitions other workers claimed in this round. */
  elsewhere?: number;
  /** link.spread: partitions given to this worker now whose last owner let go of them cleanly. */
  clean?: PartitionKey[];
}

export function encodeJson(value: WorkerMetadata | WorkerAssignment): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** A member's metadata; null when it is not a klink worker's (or unreadable). */
export function decodeMetadata(bytes: Uint8Array): WorkerMetadata | null {
  const v = parse(bytes);
  return v && Array.isArray(v.owned) && v.owned.every((p: unknown) => typeof p === "string") ? (v as WorkerMetadata) : null;
}

export function decodeAssignment(bytes: Uint8Array): WorkerAssignment {
  if (bytes.length === 0) return { version: 1, partitions: [], moving: 0 }; // the coordinator's empty assignment
  const v = parse(bytes);
  if (!v || !Array.isArray(v.partitions)) throw new Error(`worker group: unreadable assignment (${bytes.length} bytes) from the leader`);
  return v as WorkerAssignment;
}

function parse(bytes: Uint8Array): any {
  try {
    return JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    return null;
  }
}
