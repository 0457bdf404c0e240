/**
 * A message returned by a consumer: a view on librdkafka's `rd_kafka_message_t` (layout in
 * message-struct.ts).
 *
 * Ownership: the ConsumedMessage owns the native message until one of two things ends it:
 * - `destroy()` frees it;
 * - `Producer.forward(message)` moves it, once librdkafka accepted it (forward returned an id):
 *   the producer now owns it and frees it after the delivery report. When forward refuses
 *   (returns 0 or throws), the message stays the caller's.
 * After either, every accessor throws (a read would touch freed memory, or memory librdkafka is
 * still sending); read what you need before. `destroy()` then does nothing: cleanup paths
 * (`finally`, `catch`) may call it without knowing whether the message was forwarded, and a
 * throw there would hide the error being handled and skip the rest of the cleanup.
 * Key, value and header bytes returned by the accessors are copies; the `*Pointer` fields point
 * into librdkafka's fetch buffer and are valid only while the message is owned. Holding a message
 * pins its whole fetch buffer, and the consumer's close waits until every message is freed.
 */
import { toArrayBuffer, read } from "bun:ffi";
import { rdkafka } from "./library.ts";
import { KafkaError, ErrorCode, errorDescription } from "./errors.ts";
import { MessageStruct } from "./message-struct.ts";
import { messageCensus } from "./message-census.ts";
import type { Client } from "./client.ts";

export const TimestampType = { NOT_AVAILABLE: 0, CREATE_TIME: 1, LOG_APPEND_TIME: 2 } as const;

export type HeaderValue = Buffer | null;
export type Header = [name: string, value: HeaderValue];

// Out-parameters for the calls below (JS is single-threaded: shared scratch is safe).
const out = new BigUint64Array(1);
const outValue = new BigUint64Array(1);
const outSize = new BigUint64Array(1);
const outType = new Int32Array(1);

function copyBytes(p: number, len: number): Buffer {
  // Buffer.from(ArrayBuffer) would be a view on native memory; copy so it outlives the message.
  return len === 0 ? Buffer.alloc(0) : Buffer.from(new Uint8Array(toArrayBuffer(p as never, 0, len)));
}

export class ConsumedMessage {
  /** The owned `rd_kafka_message_t*`; 0 once destroyed or moved. */
  private native: number;
  /** The producer that took the message over in `forward`. */
  private movedTo: string | null = null;
  private readonly client: Client;

  constructor(pointer: number, client: Client) {
    this.native = pointer;
    this.client = client;
  }

  /** The `rd_kafka_message_t*`. Throws once the message was destroyed or moved. */
  get pointer(): number {
    const p = this.native;
    if (p === 0) throw this.notOwned();
    return p;
  }

  /** False once destroyed, or moved by `Producer.forward`. */
  get owned(): boolean {
    return this.native !== 0;
  }

  private notOwned(): Error {
    return new Error(
      this.movedTo === null
        ? "this ConsumedMessage was destroyed: its native memory is freed; read what you need before destroy()"
        : `this ConsumedMessage was moved to producer ${this.movedTo} by forward(), which frees it after the delivery report; read what you need before forward()`,
    );
  }

  /** The client (consumer) the message came from. */
  get from(): Client {
    return this.client;
  }

  /** librdkafka's error code: 0 for a record; see `isPartitionEof` and `error` for the others. */
  get errorCode(): number {
    return MessageStruct.err(this.pointer);
  }
  /**
   * True for the partition-EOF event (with `enable.partition.eof`): not a record and not an
   * error; `offset` is the partition's end at that moment (the next offset to be fetched).
   */
  get isPartitionEof(): boolean {
    return MessageStruct.err(this.pointer) === ErrorCode.PARTITION_EOF;
  }
  /** The error this message carries (also for a partition EOF), or null for a record. */
  get error(): KafkaError | null {
    const m = this.pointer;
    const code = MessageStruct.err(m);
    if (!code) return null;
    const p = MessageStruct.payload(m);
    const len = MessageStruct.len(m);
    const detail = p && len ? Buffer.from(toArrayBuffer(p as never, 0, len)).toString() : errorDescription(code);
    return new KafkaError(code, `${this.topic}[${this.partition}]: ${detail}`);
  }
  /** The topic name ("" for errors that concern no topic). */
  get topic(): string {
    const rkt = MessageStruct.rkt(this.pointer);
    return rkt ? this.client.topicName(rkt) : "";
  }
  get topicHandle(): number {
    return MessageStruct.rkt(this.pointer);
  }
  get partition(): number {
    return MessageStruct.partition(this.pointer);
  }
  get offset(): number {
    return MessageStruct.offset(this.pointer);
  }
  get valuePointer(): number {
    return MessageStruct.payload(this.pointer);
  }
  get valueLength(): number {
    return MessageStruct.len(this.pointer);
  }
  get keyPointer(): number {
    return MessageStruct.key(this.pointer);
  }
  get keyLength(): number {
    return MessageStruct.keyLen(this.pointer);
  }
  /** A copy of the value; null for a null value. */
  value(): Buffer | null {
    const m = this.pointer;
    const p = MessageStruct.payload(m);
    return p ? copyBytes(p, MessageStruct.len(m)) : null;
  }
  /** A copy of the key; null for a null key. */
  key(): Buffer | null {
    const m = this.pointer;
    const p = MessageStruct.key(m);
    return p ? copyBytes(p, MessageStruct.keyLen(m)) : null;
  }
  /** The record timestamp in ms and its type (CreateTime or LogAppendTime). */
  timestamp(): { timestamp: number; type: number } {
    const ts = rdkafka().rd_kafka_message_timestamp(this.pointer, outType);
    return { timestamp: ts, type: outType[0]! };
  }
  /** The leader epoch of the record's batch, or -1 when unknown. */
  leaderEpoch(): number {
    return rdkafka().rd_kafka_message_leader_epoch(this.pointer);
  }
  /** Copies of the record headers in order (names may repeat). */
  headers(): Header[] {
    const lib = rdkafka();
    if (lib.rd_kafka_message_headers(this.pointer, out) !== 0) return [];
    const hdrs = Number(out[0]);
    const result: Header[] = [];
    for (let i = 0; ; i++) {
      if (lib.rd_kafka_header_get_all(hdrs, i, out, outValue, outSize) !== 0) break;
      const namePtr = Number(out[0]);
      const name = Buffer.from(toArrayBuffer(namePtr as never, 0, strlen(namePtr))).toString();
      const valuePtr = Number(outValue[0]);
      result.push([name, valuePtr ? copyBytes(valuePtr, Number(outSize[0])) : null]);
    }
    return result;
  }
  /**
   * Takes the header list out of the message (for zero-copy forwarding): returns an
   * `rd_kafka_headers_t*` the caller now owns, or 0 when the message has no headers.
   */
  detachHeaders(): number {
    if (rdkafka().rd_kafka_message_detach_headers(this.pointer, out) !== 0) return 0;
    return Number(out[0]);
  }
  /**
   * Frees the native message. Does nothing when it is already destroyed, or was moved by
   * `Producer.forward` (then the producer frees it after the delivery report).
   */
  destroy(): void {
    const p = this.native;
    if (p === 0) return;
    this.native = 0;
    destroyMessage(p);
  }
  /**
   * Ends this object's ownership and returns the native message, which `producer` now owns and
   * frees with `destroyMessage`. Only `Producer.forward` calls this, after librdkafka accepted it.
   */
  moveTo(producer: string): number {
    const p = this.pointer;
    this.native = 0;
    this.movedTo = producer;
    messageCensus?.forwarded(p, producer);
    return p;
  }
}

/** Frees a consumed `rd_kafka_message_t*` (not a delivery report's: those belong to their event). */
export function destroyMessage(pointer: number): void {
  rdkafka().rd_kafka_message_destroy(pointer);
  messageCensus?.freed(pointer);
}

function strlen(p: number): number {
  let n = 0;
  while (read.u8(p as never, n) !== 0) n++;
  return n;
}
