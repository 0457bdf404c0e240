/** What partition/start.ts decides from, read off both clusters for one topic's partitions. */
import { OffsetSpec, type Admin } from "../rdkafka/index.ts";
import type { StartPosition } from "../config/types.ts";
import type { StartFacts } from "./partition/start.ts";

export async function readStartFacts(source: Admin, target: Admin, topic: string, partitions: number[], start: StartPosition): Promise<Map<number, StartFacts>> {
  const tps = partitions.map((partition) => ({ topic, partition }));
  const [earliest, stable, targetMarks, byTime] = await Promise.all([
    source.listOffsets(tps.map((tp) => ({ ...tp, offset: OffsetSpec.EARLIEST }))),
    source.listOffsets(tps.map((tp) => ({ ...tp, offset: OffsetSpec.LATEST })), true),
    target.watermarks(tps),
    start.kind === "timestamp" ? source.listOffsets(tps.map((tp) => ({ ...tp, offset: start.timestampMs }))) : Promise.resolve(undefined),
  ]);
  const at = (list: Array<{ partition: number; offset: number }>, p: number) => list.find((e) => e.partition === p)!.offset;
  return new Map(partitions.map((p) => {
    const mark = targetMarks.find((m) => m.partition === p)!;
    const facts: StartFacts = { sourceLogStart: at(earliest, p), sourceEnd: at(stable, p), target: { logStart: mark.low, end: mark.high } };
    if (byTime) facts.timestampOffset = at(byTime, p);
    return [p, facts];
  }));
}
