/**
 * Idempotent and transactional producers. Delivery reports arrive as events on the main queue
 * (no C callbacks) and are served by the shared poller, or by calling `poll()` directly.
 *
 * Each produced record gets an id (returned by `produce`/`forward`, echoed by its delivery
 * report), carried through librdkafka as the message opaque.
 *
 * Ownership: `produce` copies key, value and headers (the JS buffers may be reused at once).
 * `forward` is zero-copy and a move: once librdkafka accepted the record, the producer owns the
 * consumed `rd_kafka_message_t` (librdkafka reads its payload until the delivery report) and
 * frees it after that report, or at `close()` once the handle is gone; the ConsumedMessage it
 * came from can no longer be read or freed (see message.ts). A refused forward leaves it alone.
 */
import { ptr } from "bun:ffi";
import { rdkafka, cbuf } from "./library.ts";
import { Client, HandleType, type ClientOptions } from "./client.ts";
import { EventType, type ClientConfig } from "./config.ts";
import { KafkaError, ErrorCode, errorDescription, fromErrorObject, checkErrorObject } from "./errors.ts";
import { destroyMessage, type ConsumedMessage } from "./message.ts";
import { MessageStruct } from "./message-struct.ts";
import { waitFor, sleep } from "./poller.ts";

export type Bytes = Uint8Array | string;

export interface ProducerRecord {
  topic: string;
  /** Default: librdkafka's partitioner (murmur2-random, as Java clients). */
  partition?: number;
  key?: Bytes | null;
  value?: Bytes | null;
  headers?: Array<[string, Bytes | null]>;
  /** CreateTime in ms; default: now. (0 also means "now" to librdkafka.) */
  timestamp?: number;
}

export interface DeliveryReport {
  id: number;
  error: KafkaError | null;
  topic: string;
  partition: number;
  /** Offset assigned by the broker, -1001 when unknown (failed or not acknowledged). */
  offset: number;
}

export interface ProducerOptions extends ClientOptions {
  /** Called for every delivery report, after a forwarded message was freed. */
  onDelivery?: (report: DeliveryReport) => void;
}

// rd_kafka_vu_t: 72 bytes; vtype i32 @0, union @8 (ptr/i32/i64 @8, mem.size @16).
const VU_SIZE = 72;
const VU = { RKT: 2, PARTITION: 3, VALUE: 4, KEY: 5, OPAQUE: 6, MSGFLAGS: 7, TIMESTAMP: 8, HEADERS: 10 } as const;
const MSG_F_COPY = 2;
const PARTITION_UA = -1;
const PURGE_QUEUE = 1;
const PURGE_INFLIGHT = 2;
const EMPTY = new Uint8Array(1); // a non-NULL pointer for empty (not null) keys and values

type Waiter = { resolve: (r: DeliveryReport) => void; reject: (e: Error) => void };

export class Producer extends Client {
  private readonly vus = new ArrayBuffer(VU_SIZE * 8);
  private readonly vu32 = new Uint32Array(this.vus);
  private readonly vuI32 = new Int32Array(this.vus);
  private readonly topics = new Map<string, number>();
  /** Forwarded messages (`rd_kafka_message_t*`) by record id, owned until their delivery report. */
  private readonly held = new Map<number, number>();
  private readonly waiters = new Map<number, Waiter>();
  private readonly onDelivery?: (report: DeliveryReport) => void;
  private nextId = 1;
  readonly transactional: boolean;

  /**
   * `config` uses librdkafka's names. Defaults: `enable.idempotence=true`; a
   * `transactional.id` makes it transactional (call `initTransactions` before producing).
   */
  constructor(config: ClientConfig, options: ProducerOptions = {}) {
    super(HandleType.PRODUCER, { "enable.idempotence": true, ...config }, EventType.DR, options);
    this.onDelivery = options.onDelivery;
    this.transactional = config["transactional.id"] !== undefined;
    this.startPolling();
  }

  /** A cached `rd_kafka_topic_t*` for `name`, freed on close. */
  topic(name: string): number {
    let rkt = this.topics.get(name);
    if (rkt === undefined) {
      rkt = rdkafka().rd_kafka_topic_new(this.handle, cbuf(name), null)!;
      if (!rkt) throw new KafkaError(ErrorCode.INVALID_ARG, `cannot create topic handle for '${name}'`);
      this.topics.set(name, rkt);
    }
    return rkt;
  }

  /**
   * Refreshes this producer's metadata of `topic` (blocks up to `timeoutMs`): librdkafka refuses
   * records for partitions it has not seen yet (`_UNKNOWN_PARTITION`) until its next refresh.
   */
  refreshMetadata(topic: string, timeoutMs = 10_000): void {
    const lib = rdkafka();
    const out = new BigUint64Array(1);
    const err = lib.rd_kafka_metadata(this.handle, 0, this.topic(topic), out, timeoutMs);
    if (err) throw new KafkaError(err, `${this.name}: metadata of ${topic}: ${errorDescription(err)}`);
    lib.rd_kafka_metadata_destroy(Number(out[0]));
  }

  /** Records produced or forwarded and not yet reported (incl. reports not yet served). */
  get outstanding(): number {
    return rdkafka().rd_kafka_outq_len(this.handle);
  }

  /** Messages held for zero-copy forwarding until their delivery report. */
  get heldMessages(): number {
    return this.held.size;
  }

  private setVu(i: number, type: number): number {
    this.vuI32[(i * VU_SIZE) >> 2] = type;
    return (i * VU_SIZE + 8) >> 2; // 32-bit word index of the union
  }
  private setVuPtr(i: number, type: number, p: number, size?: number): void {
    const w = this.setVu(i, type);
    this.vu32[w] = p >>> 0;
    this.vu32[w + 1] = Math.floor(p / 4294967296);
    if (size !== undefined) {
      this.vu32[w + 2] = size >>> 0;
      this.vu32[w + 3] = Math.floor(size / 4294967296);
    }
  }
  private setVuI32(i: number, type: number, v: number): void {
    this.vuI32[this.setVu(i, type)] = v;
  }
  private setVuI64(i: number, type: number, v: number): void {
    const w = (i * VU_SIZE + 8) >> 2; // two 32-bit words, little-endian: no BigInt per record
    this.vu32[w] = v >>> 0;
    this.vuI32[w + 1] = Math.floor(v / 4294967296);
  }

  /**
   * Enqueues a copy of `record`. Returns its id. Throws a KafkaError when librdkafka refuses it;
   * `QUEUE_FULL` (retriable) means: serve delivery reports (`poll`) and try again.
   */
  produce(record: ProducerRecord): number {
    const id = this.nextId++;
    const keep: Uint8Array[] = []; // keeps JS buffers reachable during the call
    let n = 0;
    this.setVuPtr(n++, VU.RKT, this.topic(record.topic));
    this.setVuI32(n++, VU.PARTITION, record.partition ?? PARTITION_UA);
    this.setVuI32(n++, VU.MSGFLAGS, MSG_F_COPY);
    this.setVuPtr(n++, VU.OPAQUE, id);
    for (const [type, data] of [[VU.VALUE, record.value], [VU.KEY, record.key]] as const) {
      if (data === null || data === undefined) continue;
      const bytes = typeof data === "string" ? Buffer.from(data) : data;
      keep.push(bytes);
      this.setVuPtr(n++, type, bytes.length ? ptr(bytes) : ptr(EMPTY), bytes.length);
    }
    if (record.timestamp !== undefined) {
      this.setVu(n, VU.TIMESTAMP);
      this.setVuI64(n++, VU.TIMESTAMP, record.timestamp);
    }
    let headers = 0;
    if (record.headers && record.headers.length) {
      headers = buildHeaders(record.headers);
      this.setVuPtr(n++, VU.HEADERS, headers);
    }
    const error = rdkafka().rd_kafka_produceva(this.handle, this.vus, n);
    if (error) {
      if (headers) rdkafka().rd_kafka_headers_destroy(headers); // not taken over on failure
      throw fromErrorObject(error, `produce to ${record.topic}`);
    }
    keep.length = 0;
    return id;
  }

  /** Produces `record` and resolves with its delivery report (rejects on a delivery error). */
  async send(record: ProducerRecord): Promise<DeliveryReport> {
    for (;;) {
      try {
        const id = this.produce(record);
        return await new Promise<DeliveryReport>((resolve, reject) => this.waiters.set(id, { resolve, reject }));
      } catch (err) {
        if (err instanceof KafkaError && err.code === ErrorCode.QUEUE_FULL) {
          await sleep(1);
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * Zero-copy forward of a consumed record to `topic` (default: the same name) and `partition`
   * (default: the same partition), keeping key, value, headers and CreateTime. Returns the id, or
   * 0 when librdkafka's queue is full (the message is untouched: serve reports and retry).
   * A non-zero id means the message MOVED to this producer: `message` can no longer be read or
   * freed (its `destroy()` does nothing), and the producer frees it after the delivery report.
   * When this throws or returns 0 the message is still the caller's.
   */
  forward(message: ConsumedMessage, topic?: string, partition?: number): number {
    const lib = rdkafka();
    const m = message.pointer;
    const id = this.nextId++;
    let n = 0;
    this.setVuPtr(n++, VU.RKT, topic === undefined ? this.sameTopic(message) : this.topic(topic));
    this.setVuI32(n++, VU.PARTITION, partition ?? MessageStruct.partition(m));
    this.setVuI32(n++, VU.MSGFLAGS, 0); // payload referenced, not copied
    this.setVuPtr(n++, VU.OPAQUE, id);
    const value = MessageStruct.payload(m);
    if (value) this.setVuPtr(n++, VU.VALUE, value, MessageStruct.len(m));
    const key = MessageStruct.key(m);
    if (key) this.setVuPtr(n++, VU.KEY, key, MessageStruct.keyLen(m));
    const { timestamp } = message.timestamp();
    if (timestamp > 0) {
      this.setVu(n, VU.TIMESTAMP);
      this.setVuI64(n++, VU.TIMESTAMP, timestamp);
    }
    const headers = message.detachHeaders();
    if (headers) this.setVuPtr(n++, VU.HEADERS, headers);
    const error = lib.rd_kafka_produceva(this.handle, this.vus, n);
    if (error) {
      if (headers) lib.rd_kafka_message_set_headers(m, headers); // give them back: not taken over
      if (lib.rd_kafka_error_code(error) === ErrorCode.QUEUE_FULL) {
        lib.rd_kafka_error_destroy(error); // the common refusal under load: no KafkaError (its stack trace was 15% of the copy's CPU)
        return 0;
      }
      throw fromErrorObject(error, `forward ${message.topic}[${message.partition}]@${message.offset}`);
    }
    this.held.set(id, message.moveTo(this.name));
    return id;
  }

  /**
   * A consumer's topic handle → this producer's handle of the same name (forward's hot path).
   * Keyed by consumer too: a topic handle pointer is only meaningful within its own client.
   */
  private readonly sameTopics = new WeakMap<object, Map<number, number>>();
  private sameTopic(message: ConsumedMessage): number {
    let handles = this.sameTopics.get(message.from);
    if (!handles) this.sameTopics.set(message.from, (handles = new Map()));
    const from = message.topicHandle;
    let rkt = handles.get(from);
    if (rkt === undefined) {
      rkt = this.topic(message.topic);
      handles.set(from, rkt);
    }
    return rkt;
  }

  protected override handleEvent(ev: number, type: number): number {
    if (type !== EventType.DR) return super.handleEvent(ev, type);
    const lib = rdkafka();
    const msgs = this.eventMessages;
    let handled = 0;
    for (;;) {
      const count = Number(lib.rd_kafka_event_message_array(ev, msgs, msgs.length));
      if (count === 0) break;
      for (let i = 0; i < count; i++) this.deliver(Number(msgs[i]));
      handled += count;
    }
    return handled;
  }

  /** One delivery-report message (`m` belongs to the event; the forwarded message is freed here). */
  private deliver(m: number): void {
    const code = MessageStruct.err(m);
    const id = MessageStruct.opaque(m);
    const report: DeliveryReport = {
      id,
      error: null,
      topic: this.topicName(MessageStruct.rkt(m)),
      partition: MessageStruct.partition(m),
      offset: MessageStruct.offset(m),
    };
    if (code) report.error = new KafkaError(code, `delivery to ${report.topic}[${report.partition}] failed: ${errorDescription(code)}`);
    const held = this.held.get(id);
    if (held !== undefined) {
      this.held.delete(id);
      destroyMessage(held); // librdkafka is done with its payload
    }
    const waiter = this.waiters.get(id);
    if (waiter) {
      this.waiters.delete(id);
      if (report.error) waiter.reject(report.error);
      else waiter.resolve(report);
    }
    this.onDelivery?.(report);
  }

  /** Waits until every record is acknowledged and its report served. */
  async flush(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      () => (this.poll(), this.outstanding === 0 ? true : undefined),
      timeoutMs,
      () => new KafkaError(ErrorCode.TIMED_OUT, `${this.name}: ${this.outstanding} records still undelivered after ${timeoutMs} ms`),
    );
  }

  // --- Transactions. librdkafka blocks the JS thread inside these calls, so keep timeouts short.

  initTransactions(timeoutMs = 30_000): void {
    checkErrorObject(rdkafka().rd_kafka_init_transactions(this.handle, timeoutMs), `${this.name}: init transactions`);
  }

  /**
   * initTransactions in short calls, so that the JS thread is not blocked while the transaction
   * coordinator is away (a broker restarting); librdkafka resumes the same operation each time.
   */
  async initTransactionsAsync(timeoutMs = 30_000): Promise<void> {
    await this.retryTxn((t) => rdkafka().rd_kafka_init_transactions(this.handle, t), "init transactions", timeoutMs);
  }

  beginTransaction(): void {
    checkErrorObject(rdkafka().rd_kafka_begin_transaction(this.handle), `${this.name}: begin transaction`);
  }

  /** Drains delivery reports, then commits (retrying retriable errors). */
  async commitTransaction(timeoutMs = 30_000): Promise<void> {
    await this.flush(timeoutMs);
    await this.retryTxn((t) => rdkafka().rd_kafka_commit_transaction(this.handle, t), "commit transaction", timeoutMs);
  }

  /** Aborts; purged records get error reports. Retries in short steps so reports keep flowing. */
  async abortTransaction(timeoutMs = 30_000): Promise<void> {
    await this.retryTxn((t) => rdkafka().rd_kafka_abort_transaction(this.handle, t), "abort transaction", timeoutMs);
    await this.flush(timeoutMs);
  }

  private async retryTxn(call: (t: number) => number | null, what: string, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const error = call(200);
      if (!error) return;
      const err = fromErrorObject(error, `${this.name}: ${what}`);
      if (!err.retriable || performance.now() > deadline) throw err;
      this.poll();
      await sleep(1);
    }
  }

  /**
   * Flushes (up to `timeoutMs`), then purges what is left and frees the handle, then the
   * forwarded messages still held (only then can librdkafka no longer read their payloads).
   * Records purged here get error delivery reports.
   */
  async close(timeoutMs = 30_000): Promise<void> {
    if (this.isDestroyed) return;
    try {
      await this.flush(timeoutMs);
    } catch {
      rdkafka().rd_kafka_purge(this.handle, PURGE_QUEUE | PURGE_INFLIGHT);
      await this.flush(5_000).catch(() => {});
    }
    for (const w of this.waiters.values()) w.reject(new KafkaError(ErrorCode.DESTROY, `${this.name} closed`));
    this.waiters.clear();
    for (const rkt of this.topics.values()) rdkafka().rd_kafka_topic_destroy(rkt);
    this.topics.clear();
    this.destroyHandle();
    for (const m of this.held.values()) destroyMessage(m);
    this.held.clear();
  }
}

/** Builds an `rd_kafka_headers_t*` (copies names and values); owned by the caller. */
function buildHeaders(headers: Array<[string, Bytes | null]>): number {
  const lib = rdkafka();
  const h = lib.rd_kafka_headers_new(headers.length)!;
  for (const [name, value] of headers) {
    const nameBuf = Buffer.from(name);
    const v = value === null ? null : typeof value === "string" ? Buffer.from(value) : value;
    const res = lib.rd_kafka_header_add(
      h, nameBuf.length ? nameBuf : EMPTY, BigInt(nameBuf.length),
      v === null ? null : v.length ? v : EMPTY, BigInt(v === null ? 0 : v.length),
    );
    if (res !== 0) {
      lib.rd_kafka_headers_destroy(h);
      throw new KafkaError(res, `header '${name}': ${errorDescription(res)}`);
    }
  }
  return h;
}
