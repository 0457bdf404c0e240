/**
 * What a replica is worth to consumers: are records at the offsets they had on the source, and
 * where does a consumer group resume on the target?
 *
 * Every target record is matched to its source record by its key (the dataset's seq), whose
 * source position is known: partition seq % P, offset floor(seq / P).
 *
 * For a group committed on the source at C (next offset to read) in each partition, and its
 * offset T on the target (klink: T = C, exact mode keeps offsets; MirrorMaker 2: what its
 * checkpoints wrote to the target group; the pipe translates nothing, so T = C copied as is):
 *   re-delivered = target records at offset >= T that come from source offsets < C
 *   skipped      = target records at offset <  T that come from source offsets >= C
 */
import type { KafkaCluster } from "../../test/harness/cluster.ts";
import { readTopic, seqOf } from "./dataset.ts";

export interface Fidelity {
  recordsRead: number;
  /** records whose target partition or offset differs from the source's */
  atOtherOffset: number;
  duplicates: number;
  missing: number;
  /** absent when the tool wrote no offset for the group */
  group?: { redelivered: number; skipped: number; partitionsWithOffset: number };
}

export async function checkFidelity(
  target: KafkaCluster,
  topic: string,
  o: { partitions: number; firstSeq: number; totalSeq: number; sourceLow: number[]; groupAt?: number[]; translated?: Map<number, number> },
): Promise<Fidelity> {
  const seen = new Uint8Array(o.totalSeq);
  let recordsRead = 0;
  let atOtherOffset = 0;
  let duplicates = 0;
  let redelivered = 0;
  let skipped = 0;
  await readTopic(target, topic, o.partitions, (m, partition, offset) => {
    const seq = seqOf(m);
    if (seq < 0 || seq >= o.totalSeq) throw new Error(`${topic}[${partition}]@${offset}: a record that is not from the dataset`);
    recordsRead++;
    if (seen[seq]) duplicates++;
    seen[seq] = 1;
    const sourcePartition = seq % o.partitions;
    const sourceOffset = Math.floor(seq / o.partitions);
    if (sourcePartition !== partition || sourceOffset !== offset) atOtherOffset++;
    const t = o.translated?.get(partition);
    if (o.groupAt && t !== undefined && sourcePartition === partition) {
      const c = o.groupAt[partition]!;
      if (offset >= t && sourceOffset < c) redelivered++;
      if (offset < t && sourceOffset >= c) skipped++;
    }
  });
  // records the source still has (trimmed ones are gone on purpose)
  let missing = 0;
  for (let seq = o.firstSeq; seq < o.totalSeq; seq++) {
    if (Math.floor(seq / o.partitions) >= o.sourceLow[seq % o.partitions]! && !seen[seq]) missing++;
  }
  const out: Fidelity = { recordsRead, atOtherOffset, duplicates, missing };
  if (o.groupAt && o.translated) out.group = { redelivered, skipped, partitionsWithOffset: o.translated.size };
  return out;
}
