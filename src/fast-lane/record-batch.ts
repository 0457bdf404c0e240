/**
 * Kafka's record batch (magic 2) seen as bytes: where each batch of a fetched record set starts
 * and ends, what its header says, whether the fast lane may copy it as it is, and the rewrite
 * that makes it klink's own idempotent batch (docs/fast-lane.md).
 *
 * Header layout (offsets from the batch's first byte): baseOffset int64 @0, batchLength int32 @8
 * (bytes after this field), partitionLeaderEpoch int32 @12, magic int8 @16, crc uint32 @17
 * (CRC-32C of everything from attributes to the end), attributes int16 @21, lastOffsetDelta int32
 * @23, baseTimestamp int64 @27, maxTimestamp int64 @35, producerId int64 @43, producerEpoch int16
 * @51, baseSequence int32 @53, recordCount int32 @57, records @61. Older message sets (magic 0
 * and 1) keep offset @0, size @8 and magic @16, which is enough to step over them.
 */
import { crc32c, crc32cAfterChange } from "./crc32c.ts";

export const BATCH_HEADER_BYTES = 61;
const CRC_FROM = 21;
const PRODUCER_FIELDS = 43;
const PRODUCER_FIELDS_END = 57;

const LOG_APPEND_TIME = 0x08;
const TRANSACTIONAL = 0x10;
const CONTROL = 0x20;
const DELETE_HORIZON = 0x40;

export interface BatchView {
  /** Where the batch starts and ends in the record set it was read from. */
  start: number;
  end: number;
  magic: number;
  baseOffset: number;
  /** The offset of its last record (as the source assigned it). */
  lastOffset: number;
  /** Magic 2 only (0 for older message sets). */
  attributes: number;
  recordCount: number;
}

export interface RecordSet {
  batches: BatchView[];
  /** Bytes at the end that do not hold a whole batch (a fetch stops mid-batch at its size limit). */
  partialBytes: number;
}

/** Splits a fetched record set into its batches; throws on a header that cannot be a batch. */
export function splitBatches(records: Buffer): RecordSet {
  const batches: BatchView[] = [];
  let pos = 0;
  while (records.length - pos >= 17) {
    const length = records.readInt32BE(pos + 8);
    const magic = records.readInt8(pos + 16);
    const end = pos + 12 + length;
    if (magic < 0 || magic > 2 || length < (magic === 2 ? BATCH_HEADER_BYTES - 12 : 14)) {
      throw new Error(`not a record batch at byte ${pos}: magic ${magic}, length ${length}`);
    }
    if (end > records.length) break;
    const baseOffset = Number(records.readBigInt64BE(pos));
    if (magic === 2) {
      batches.push({
        start: pos,
        end,
        magic,
        baseOffset,
        lastOffset: baseOffset + records.readInt32BE(pos + 23),
        attributes: records.readInt16BE(pos + 21),
        recordCount: records.readInt32BE(pos + 57),
      });
    } else {
      // a legacy entry's offset is its last inner record's (a compressed wrapper) or its own
      batches.push({ start: pos, end, magic, baseOffset, lastOffset: baseOffset, attributes: 0, recordCount: 1 });
    }
    pos = end;
  }
  return { batches, partialBytes: records.length - pos };
}

/**
 * Why `batch` cannot be copied as bytes to continue a partition whose next offset is `next`, or
 * null when it can: plain data (magic 2, not transactional, not control, no delete horizon), its
 * offsets contiguous (no record removed by compaction inside it) and starting exactly at `next`.
 * Nor a batch stamped with the source broker's append time (LogAppendTime): a broker refuses it
 * from a producer (INVALID_TIMESTAMP), and cleared of the stamp its records would show their
 * producers' times instead of the append time the source's consumers see.
 */
export function whyNotPlain(batch: BatchView, next: number): string | null {
  if (batch.magic !== 2) return `a magic ${batch.magic} message set`;
  if (batch.attributes & LOG_APPEND_TIME) return "a batch with the source broker's append time (message.timestamp.type LogAppendTime)";
  if (batch.attributes & CONTROL) return "a control batch";
  if (batch.attributes & TRANSACTIONAL) return "a transactional batch";
  if (batch.attributes & DELETE_HORIZON) return "a compacted batch with a delete horizon";
  if (batch.lastOffset - batch.baseOffset + 1 !== batch.recordCount) return "a compacted batch with gaps between its offsets";
  if (batch.baseOffset !== next) return `a batch at offset ${batch.baseOffset} where ${next} comes next`;
  return null;
}

/**
 * Makes `batch` (inside `records`, which klink owns) a batch of klink's idempotent producer:
 * producer id, epoch and base sequence replaced, the checksum carried over from the old one (so a
 * batch corrupted at the source stays detectably corrupt: the target's broker refuses it),
 * base offset 0 and leader epoch -1 as a producing client sends them. Returns the sequence of
 * the next batch of this partition.
 */
export function restamp(records: Buffer, batch: BatchView, producerId: bigint, producerEpoch: number, baseSequence: number): number {
  const at = batch.start;
  const before = Buffer.from(records.subarray(at + PRODUCER_FIELDS, at + PRODUCER_FIELDS_END));
  records.writeBigInt64BE(producerId, at + PRODUCER_FIELDS);
  records.writeInt16BE(producerEpoch, at + 51);
  records.writeInt32BE(baseSequence, at + 53);
  const after = records.subarray(at + PRODUCER_FIELDS, at + PRODUCER_FIELDS_END);
  const crc = records.readUInt32BE(at + 17);
  records.writeUInt32BE(crc32cAfterChange(crc, before, after, PRODUCER_FIELDS_END - CRC_FROM, batch.end - at - CRC_FROM), at + 17);
  records.writeBigInt64BE(0n, at);
  records.writeInt32BE(-1, at + 12);
  return (baseSequence + (batch.lastOffset - batch.baseOffset) + 1) % 2 ** 31;
}

/** True when the batch's stored checksum matches its bytes (the full check, for tests and diagnosis). */
export function checksumHolds(records: Buffer, batch: BatchView): boolean {
  return batch.magic === 2 && records.readUInt32BE(batch.start + 17) === crc32c(records, batch.start + CRC_FROM, batch.end);
}
