/**
 * Conversions between JS arrays and `rd_kafka_topic_partition_list_t`.
 * Layout (rdkafka.h): list { int cnt @0; int size @4; elems* @8 };
 * element (64 bytes) { char* topic @0; int32 partition @8; int64 offset @16; void* metadata @24;
 * size_t metadata_size @32; void* opaque @40; int32 err @48; void* _private @56 }.
 */
import { read, toArrayBuffer } from "bun:ffi";
import { rdkafka, cbuf, cstr } from "./library.ts";

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  /** An offset, or a logical one: -2 earliest/beginning, -1 latest/end, -1000 stored, -1001 invalid. */
  offset: number;
  /** Set on results: the per-partition error code (0 when fine). */
  error?: number;
  /** Commit metadata, where the API has it. */
  metadata?: string;
}

export const Offset = {
  BEGINNING: -2,
  END: -1,
  STORED: -1000,
  INVALID: -1001,
} as const;

const ELEM_SIZE = 64;

/** Builds a native list; the caller owns it and frees it with `destroyList`. */
export function toNativeList(items: ReadonlyArray<TopicPartition & { offset?: number }>): number {
  const lib = rdkafka();
  const list = lib.rd_kafka_topic_partition_list_new(Math.max(items.length, 1));
  for (const item of items) {
    const elem = lib.rd_kafka_topic_partition_list_add(list, cbuf(item.topic), item.partition);
    if (item.offset !== undefined) writeI64(elem! + 16, item.offset);
  }
  return list!;
}

export function destroyList(list: number): void {
  rdkafka().rd_kafka_topic_partition_list_destroy(list);
}

/** Copies a native list into JS objects (the list is not freed). */
export function fromNativeList(list: number | null): TopicPartitionOffset[] {
  if (!list) return [];
  const cnt = read.i32(list as never, 0);
  const elems = read.ptr(list as never, 8);
  const out: TopicPartitionOffset[] = [];
  for (let i = 0; i < cnt; i++) {
    const e = elems + i * ELEM_SIZE;
    const item: TopicPartitionOffset = {
      topic: cstr(read.ptr(e as never, 0))!,
      partition: read.i32(e as never, 8),
      offset: Number(read.i64(e as never, 16)),
      error: read.i32(e as never, 48),
    };
    const metaLen = Number(read.u64(e as never, 32));
    if (metaLen > 0) {
      const meta = read.ptr(e as never, 24);
      item.metadata = Buffer.from(toArrayBuffer(meta as never, 0, metaLen)).toString();
    }
    out.push(item);
  }
  return out;
}

/** Reads a single `rd_kafka_topic_partition_t` (as ListOffsets results return them). */
export function fromNativeElement(e: number): TopicPartitionOffset {
  return {
    topic: cstr(read.ptr(e as never, 0))!,
    partition: read.i32(e as never, 8),
    offset: Number(read.i64(e as never, 16)),
    error: read.i32(e as never, 48),
  };
}

/** Writes an int64 into native memory at `address` (memory librdkafka owns and we may write). */
export function writeI64(address: number, value: number): void {
  new BigInt64Array(toArrayBuffer(address as never, 0, 8))[0] = BigInt(value);
}
