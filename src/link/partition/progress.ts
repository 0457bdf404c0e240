/** One linked partition as status, metrics and the progress lines see it (Link.progress). */
import type { TopicLifecycle } from "../../state/store.ts";
import type { RoutedProgress } from "../router.ts";
import type { LinkedPartition } from "./partition.ts";

export interface PartitionProgress {
  topic: string;
  partition: number;
  /** exact: target offset == source offset; translate: copied records are in the offset map. */
  mode: "exact" | "translate";
  /** fast: copied as record batches by the fast lane (link.fastLane), not by the Link's exact lane. */
  lane?: "fast";
  /** Next source offset the target acknowledged up to (records in flight stay lag while the target is down). */
  next: number;
  /** Source end as last seen (last stable offset). */
  sourceEnd: number;
  copiedRecords: number;
  copiedBytes: number;
  /** CreateTime of a recently copied record (sampled), for the lag in seconds; 0 when unknown. */
  copiedTimestamp: number;
  /** When klink last copied a record a producer wrote to the source (ISO time); null before one. */
  lastCopiedAt?: string | null;
  error: string | null;
  /** The error is a cluster that did not answer in time: klink tries the partition again by itself (interrupted.ts). */
  retrying?: boolean;
  /** In dual write: the Router's progress on this partition (target → source). */
  routed?: RoutedProgress;
  /** The topic's lifecycle state (docs/lifecycle.md). */
  topicState?: TopicLifecycle;
}

/** What status shows of `p`: its progress, its topic's state, and the Router's when it routes. */
export function partitionProgress(p: LinkedPartition, topicState: TopicLifecycle, routed: RoutedProgress | undefined): PartitionProgress {
  const progress: PartitionProgress = {
    topic: p.topic, partition: p.partition, mode: p.mode, next: p.next - p.inFlight, sourceEnd: p.sourceEnd, copiedRecords: p.copiedRecords,
    copiedBytes: p.copiedBytes, copiedTimestamp: p.copiedTimestamp, error: p.error, topicState,
    ...(p.error && p.retryAt !== null ? { retrying: true } : {}),
    lastCopiedAt: p.lastOriginalAt ? new Date(Date.now() - (performance.now() - p.lastOriginalAt)).toISOString() : null, // a monotonic reading, as a time
  };
  return routed ? { ...progress, routed } : progress;
}
