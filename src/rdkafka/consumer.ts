/**
 * A consumer: manual assignment (assign / incremental assign) or group subscription, seek,
 * pause / resume, and batch consumption from the consumer queue. `isolation.level` defaults to
 * `read_committed`. Without a `group.id` it gets a unique one: an assign-only reader that shares
 * nothing with other readers (pass the group's id to subscribe or commit).
 *
 * Ownership: every ConsumedMessage returned belongs to the caller, who must `destroy()` it or
 * move it with `Producer.forward`. Destroy (or forward and flush) all of them before `close()`:
 * librdkafka's close waits until every message it handed out is freed. With
 * KLINK_DEBUG_MESSAGES=1, `close()` reports the messages still not freed (message-census.ts).
 */
import { rdkafka, cbuf } from "./library.ts";
import { Client, HandleType, type ClientOptions } from "./client.ts";
import type { ClientConfig } from "./config.ts";
import { KafkaError, ErrorCode, checkErr, checkErrorObject } from "./errors.ts";
import { ConsumedMessage } from "./message.ts";
import { messageCensus } from "./message-census.ts";
import { toNativeList, fromNativeList, destroyList, type TopicPartition, type TopicPartitionOffset } from "./partitions.ts";
import { sleep } from "./poller.ts";

export class Consumer extends Client {
  private readonly consumerQueue: number;
  private batch = new BigUint64Array(1024);
  private closed = false;

  constructor(config: ClientConfig, options: ClientOptions = {}) {
    super(
      HandleType.CONSUMER,
      // librdkafka's consumer API needs a group.id even to assign: an assign-only reader gets its own.
      { "isolation.level": "read_committed", "enable.auto.commit": false, "group.id": `klink-reader-${crypto.randomUUID()}`, ...config },
      0,
      options,
    );
    const lib = rdkafka();
    if (options.onTokenRefresh) {
      // consume_batch_queue drops OAUTHBEARER token-refresh events: keep the main queue apart and
      // serve it from the poller (errors then reach onError instead of arriving as messages).
      this.startPolling();
    } else {
      // Route the main queue (errors) into the consumer queue: one place to read.
      checkErr(lib.rd_kafka_poll_set_consumer(this.handle), "poll_set_consumer");
    }
    this.consumerQueue = lib.rd_kafka_queue_get_consumer(this.handle)!;
  }

  /** Replaces the assignment. Offsets may be logical (Offset.BEGINNING / END / STORED). */
  assign(partitions: Array<TopicPartition & { offset?: number }>): void {
    this.withList(partitions, (l) => checkErr(rdkafka().rd_kafka_assign(this.handle, l), "assign"));
  }

  incrementalAssign(partitions: Array<TopicPartition & { offset?: number }>): void {
    this.withList(partitions, (l) => checkErrorObject(rdkafka().rd_kafka_incremental_assign(this.handle, l), "incremental assign"));
  }

  incrementalUnassign(partitions: TopicPartition[]): void {
    this.withList(partitions, (l) => checkErrorObject(rdkafka().rd_kafka_incremental_unassign(this.handle, l), "incremental unassign"));
  }

  unassign(): void {
    checkErr(rdkafka().rd_kafka_assign(this.handle, null), "unassign");
  }

  assignment(): TopicPartition[] {
    const out = new BigUint64Array(1);
    checkErr(rdkafka().rd_kafka_assignment(this.handle, out), "assignment");
    const list = Number(out[0]);
    try {
      return fromNativeList(list).map(({ topic, partition }) => ({ topic, partition }));
    } finally {
      destroyList(list);
    }
  }

  /** Joins the group (`group.id`) for these topics; librdkafka assigns partitions itself. */
  subscribe(topics: string[]): void {
    this.withList(topics.map((topic) => ({ topic, partition: -1 })), (l) => checkErr(rdkafka().rd_kafka_subscribe(this.handle, l), "subscribe"));
    this.subscribed = true;
  }

  private subscribed = false;

  unsubscribe(): void {
    checkErr(rdkafka().rd_kafka_unsubscribe(this.handle), "unsubscribe");
  }

  /** Moves the fetch position of assigned partitions (blocks up to `timeoutMs`). */
  seek(partitions: TopicPartitionOffset[], timeoutMs = 10_000): void {
    this.withList(partitions, (l) => {
      checkErrorObject(rdkafka().rd_kafka_seek_partitions(this.handle, l, timeoutMs), "seek");
      failOnPartitionErrors(fromNativeList(l), "seek");
    });
  }

  pause(partitions: TopicPartition[]): void {
    this.withList(partitions, (l) => checkErr(rdkafka().rd_kafka_pause_partitions(this.handle, l), "pause"));
  }

  resume(partitions: TopicPartition[]): void {
    this.withList(partitions, (l) => checkErr(rdkafka().rd_kafka_resume_partitions(this.handle, l), "resume"));
  }

  /** The next offset to be consumed per partition (-1001 when not known yet). */
  position(partitions: TopicPartition[]): TopicPartitionOffset[] {
    return this.withList(partitions, (l) => {
      checkErr(rdkafka().rd_kafka_position(this.handle, l), "position");
      return fromNativeList(l);
    });
  }

  /** Commits offsets (the next offset to read) for the group; synchronous. */
  commit(offsets: TopicPartitionOffset[]): void {
    this.withList(offsets, (l) => {
      checkErr(rdkafka().rd_kafka_commit(this.handle, l, 0), "commit");
      failOnPartitionErrors(fromNativeList(l), "commit");
    });
  }

  /** The group's committed offsets (blocks up to `timeoutMs`). */
  committed(partitions: TopicPartition[], timeoutMs = 10_000): TopicPartitionOffset[] {
    return this.withList(partitions, (l) => {
      checkErr(rdkafka().rd_kafka_committed(this.handle, l, timeoutMs), "committed");
      return fromNativeList(l);
    });
  }

  /** Low and high watermark of a partition, asked from its leader (blocks up to `timeoutMs`). */
  queryWatermarks(topic: string, partition: number, timeoutMs = 10_000): { low: number; high: number } {
    const low = new BigInt64Array(1);
    const high = new BigInt64Array(1);
    checkErr(
      rdkafka().rd_kafka_query_watermark_offsets(this.handle, cbuf(topic), partition, low, high, timeoutMs),
      `watermarks of ${topic}[${partition}]`,
    );
    return { low: Number(low[0]), high: Number(high[0]) };
  }

  private readonly lastLow = new BigInt64Array(1);
  private readonly lastHigh = new BigInt64Array(1);

  /**
   * The high watermark the partition's last fetch response carried (librdkafka keeps it; no I/O),
   * or -1 when none came yet. It is read from the response before any of its records are.
   */
  lastHighWatermark(topic: string, partition: number): number {
    const err = rdkafka().rd_kafka_get_watermark_offsets(this.handle, cbuf(topic), partition, this.lastLow, this.lastHigh);
    return err === 0 && this.lastHigh[0]! >= 0n ? Number(this.lastHigh[0]) : -1;
  }

  /**
   * Returns up to `max` messages: records, and also partition events as messages with
   * `errorCode != 0` (`isPartitionEof` for the partition's end, else an error). Waits up to
   * `timeoutMs` for the first one; 0 never blocks. Each message is the caller's to free.
   * Note: a positive timeout blocks the JS thread; prefer `consume`.
   */
  consumeBatch(max: number, timeoutMs = 0): ConsumedMessage[] {
    return this.take(max, timeoutMs, null);
  }

  /** Like `consumeBatch`, without blocking the JS thread: waits up to `waitMs` for messages. */
  async consume(max: number, waitMs = 100): Promise<ConsumedMessage[]> {
    const caller = messageCensus?.caller(1) ?? null; // now: after an await the caller's frames are gone
    const deadline = performance.now() + waitMs;
    for (let idle = 0; ; idle++) {
      const messages = this.take(max, 0, caller);
      if (messages.length || performance.now() >= deadline) return messages;
      await sleep(Math.min(1 + idle, 5));
    }
  }

  /**
   * Leaves the group (if subscribed) and frees the handle. Blocks while leaving, and until every
   * message this consumer returned is freed (destroyed, or delivered by the producer it moved to).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const unfreed = messageCensus?.report(this);
    if (unfreed) console.error(unfreed);
    const lib = rdkafka();
    // A cooperative-sticky member closed while subscribed returns without a LeaveGroup (its
    // partitions wait for session.timeout.ms); unsubscribing first makes it leave at once.
    if (this.subscribed) lib.rd_kafka_unsubscribe(this.handle);
    lib.rd_kafka_queue_destroy(this.consumerQueue);
    lib.rd_kafka_consumer_close(this.handle);
    this.destroyHandle();
  }

  /** `caller`: where `consume` was called (for the message census), null from `consumeBatch`. */
  private take(max: number, timeoutMs: number, caller: string | null): ConsumedMessage[] {
    if (this.batch.length < max) this.batch = new BigUint64Array(max);
    const n = rdkafka().rd_kafka_consume_batch_queue(this.consumerQueue, timeoutMs, this.batch, max);
    if (n < 0) throw new KafkaError(ErrorCode.FAIL, `${this.name}: consume failed`);
    if (messageCensus && n > 0) messageCensus.consumed(this.batch, n, this, caller ?? messageCensus.caller(2)); // take, consumeBatch
    const out = new Array<ConsumedMessage>(n);
    for (let i = 0; i < n; i++) out[i] = new ConsumedMessage(Number(this.batch[i]), this);
    return out;
  }

  private withList<T>(items: Array<TopicPartition & { offset?: number }>, fn: (list: number) => T): T {
    const list = toNativeList(items);
    try {
      return fn(list);
    } finally {
      destroyList(list);
    }
  }
}

function failOnPartitionErrors(items: TopicPartitionOffset[], what: string): void {
  const bad = items.find((i) => i.error);
  if (bad) throw new KafkaError(bad.error!, `${what} ${bad.topic}[${bad.partition}]`);
}
