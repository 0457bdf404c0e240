/**
 * A message returned by a consumer: a view on librdkafka's `rd_kafka_message_t` (72 bytes:
 * err i32 @0, rkt @8, partition i32 @16, payload @24, len @32, key @40, key_len @48,
 * offset i64 @56, _private @64).
 *
 * Ownership: the ConsumedMessage owns the native message until `destroy()`, or until it is handed
 * to `Producer.forward`, which destroys it after the delivery report. Key, value and header bytes
 * returned by the accessors are copies; the `*Pointer` fields point into librdkafka's fetch
 * buffer and are valid only while the message lives. Holding a message pins its whole fetch
 * buffer, so do not keep messages longer than needed.
 */
import { read, toArrayBuffer } from "bun:ffi";
import { rdkafka } from "./library.ts";
import { KafkaError, errorDescription } from "./errors.ts";
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
  /** The `rd_kafka_message_t*`; 0 once destroyed. */
  pointer: number;
  private readonly client: Client;

  constructor(pointer: number, client: Client) {
    this.pointer = pointer;
    this.client = client;
  }

  /** The client (consumer) the message came from. */
  get from(): Client {
    return this.client;
  }

  /** librdkafka's error code for this message (0 for a record; e.g. -191 partition EOF). */
  get errorCode(): number {
    return read.i32(this.pointer as never, 0);
  }
  get error(): KafkaError | null {
    const code = this.errorCode;
    if (!code) return null;
    const p = read.ptr(this.pointer as never, 24);
    const len = read.ptr(this.pointer as never, 32);
    const detail = p && len ? Buffer.from(toArrayBuffer(p as never, 0, len)).toString() : errorDescription(code);
    return new KafkaError(code, `${this.topic}[${this.partition}]: ${detail}`);
  }
  /** The topic name ("" for errors that concern no topic). */
  get topic(): string {
    const rkt = read.ptr(this.pointer as never, 8);
    return rkt ? this.client.topicName(rkt) : "";
  }
  get topicHandle(): number {
    return read.ptr(this.pointer as never, 8);
  }
  get partition(): number {
    return read.i32(this.pointer as never, 16);
  }
  get offset(): number {
    return Number(read.i64(this.pointer as never, 56));
  }
  get valuePointer(): number {
    return read.ptr(this.pointer as never, 24);
  }
  get valueLength(): number {
    return read.ptr(this.pointer as never, 32);
  }
  get keyPointer(): number {
    return read.ptr(this.pointer as never, 40);
  }
  get keyLength(): number {
    return read.ptr(this.pointer as never, 48);
  }
  /** A copy of the value; null for a null value. */
  value(): Buffer | null {
    const p = this.valuePointer;
    return p ? copyBytes(p, this.valueLength) : null;
  }
  /** A copy of the key; null for a null key. */
  key(): Buffer | null {
    const p = this.keyPointer;
    return p ? copyBytes(p, this.keyLength) : null;
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
  /** Frees the native message. Safe to call twice. */
  destroy(): void {
    if (this.pointer) {
      rdkafka().rd_kafka_message_destroy(this.pointer);
      this.pointer = 0;
    }
  }
}

function strlen(p: number): number {
  let n = 0;
  while (read.u8(p as never, n) !== 0) n++;
  return n;
}
