/** Where copying starts in a source partition, from the link's `start` setting. */
import { OffsetSpec, type Admin } from "../rdkafka/index.ts";

import type { StartPosition } from "../config/types.ts";

export type { StartPosition };

export interface SourceRange {
  partition: number;
  /** Log start offset (earliest retained offset). */
  logStartOffset: number;
  /** Last stable offset: up to here the partition's structure is final. */
  lastStableOffset: number;
  /** The first source offset klink copies. */
  start: number;
}

export async function sourceRanges(admin: Admin, topic: string, partitions: number[], start: StartPosition): Promise<SourceRange[]> {
  const tps = partitions.map((partition) => ({ topic, partition }));
  const [earliest, stable] = await Promise.all([
    admin.listOffsets(tps.map((tp) => ({ ...tp, offset: OffsetSpec.EARLIEST }))),
    admin.listOffsets(tps.map((tp) => ({ ...tp, offset: OffsetSpec.LATEST })), true),
  ]);
  const byTime =
    start.kind === "timestamp" ? await admin.listOffsets(tps.map((tp) => ({ ...tp, offset: start.timestampMs }))) : undefined;
  return partitions.map((partition) => {
    const logStartOffset = earliest.find((e) => e.partition === partition)!.offset;
    const lastStableOffset = stable.find((e) => e.partition === partition)!.offset;
    let first = logStartOffset;
    if (start.kind === "latest") first = lastStableOffset;
    if (start.kind === "timestamp") {
      const at = byTime!.find((e) => e.partition === partition)!.offset;
      first = at < 0 ? lastStableOffset : Math.max(at, logStartOffset);
    }
    return { partition, logStartOffset, lastStableOffset, start: first };
  });
}
