/**
 * librdkafka's `rd_kafka_message_t` (rdkafka.h), the one struct it uses for consumed messages and
 * for delivery reports; 72 bytes on 64-bit platforms. This is the only place that knows its field
 * offsets. Every reader takes the struct's address and keeps nothing: the struct belongs to its
 * owner (a ConsumedMessage, a Producer holding a forwarded message, or a delivery-report event).
 *
 *   err i32 @0 · rkt ptr @8 · partition i32 @16 · payload ptr @24 · len size_t @32 ·
 *   key ptr @40 · key_len size_t @48 · offset i64 @56 · _private ptr @64
 */
import { read } from "bun:ffi";

export const MessageStruct = {
  /** `rd_kafka_resp_err_t err`: 0 for a record or a delivered message. */
  err: (m: number): number => read.i32(m as never, 0),
  /** `rd_kafka_topic_t *rkt`: belongs to the message's client, valid while that client lives. */
  rkt: (m: number): number => read.ptr(m as never, 8),
  partition: (m: number): number => read.i32(m as never, 16),
  /** `void *payload`: the value (NULL for a null value); for an error, librdkafka's error text. */
  payload: (m: number): number => read.ptr(m as never, 24),
  len: (m: number): number => read.ptr(m as never, 32),
  key: (m: number): number => read.ptr(m as never, 40),
  keyLen: (m: number): number => read.ptr(m as never, 48),
  /** The record's offset; for a partition-EOF event, the partition's end (the next offset). */
  offset: (m: number): number => read.u32(m as never, 56) + read.i32(m as never, 60) * 4294967296, // two 32-bit reads: no BigInt per record
  /** `_private`: in a delivery report, the `msg_opaque` given at produce time (klink's record id). */
  opaque: (m: number): number => read.ptr(m as never, 64),
} as const;
