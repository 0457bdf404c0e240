/**
 * The Router: once producers write straight to the target, it appends what they wrote to the
 * same partition of the source, so the source stays complete and rollback stays possible.
 *
 * It reads each translate-mode partition of the target (read_committed) and, per record, asks the
 * ledger whether the Fetcher wrote it (skip), whether it is an original (forward it zero-copy,
 * key, value, headers and CreateTime unchanged), or whether the Fetcher's delivery report that
 * would tell is still on its way (wait for it). Records leave in target order, so each
 * producer's order holds on the source too.
 */
import { Producer, Consumer, type ConsumedMessage, type DeliveryReport } from "../rdkafka/index.ts";
import { PartitionsByHandle } from "./partitions-by-handle.ts";
import type { Cluster } from "./cluster.ts";
import { Ledger, type Lanes } from "./ledger.ts";
import { forwardingProducer, QUEUE_FULL_WAIT_MS, copyingConsumer } from "../config/copying-clients.ts";

export interface RouterOptions {
  source: Cluster;
  target: Cluster;
  ledger: Ledger;
  maxInFlightBytes: number;
  /** limits.memory (the consumer's fetch sizes follow it). */
  memoryBytes: number;
  /** Serves the Fetcher's delivery reports (a wait for one of them). */
  pollFetcher: () => void;
  /** The first record routed for `topic` (the topic moves to dual-write). */
  onFirstRouted: (p: Lanes, targetOffset: number) => void;
  onFailed: (p: Lanes, err: Error) => void;
  /** link.standby: whether this process still owns the link; asked before every batch. */
  mayWrite?: () => boolean;
  /** link.standby: records not acknowledged within this time fail instead of being sent later (docs/workers.md). */
  messageTimeoutMs?: number;
}

export interface RoutedProgress {
  /** Next target offset to route. */
  next: number;
  /** Target end as last seen (end of partition events). */
  targetEnd: number;
  routedRecords: number;
  routedBytes: number;
}

interface Routed {
  p: Lanes;
  offset: number;
  bytes: number;
}

export class Router {
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly expected = new Map<number, Routed>();
  private readonly progressOf = new Map<Lanes, RoutedProgress>();
  private readonly firstRouted = new Set<string>();
  private inFlightBytes = 0;
  private stopping = false;

  constructor(private readonly options: RouterOptions) {
    this.consumer = new Consumer({ ...options.target.config, ...copyingConsumer(options), "enable.partition.eof": true }, options.target.options);
    this.producer = new Producer(
      forwardingProducer(options.source.config, options.messageTimeoutMs),
      { ...options.source.options, onDelivery: (r) => this.delivered(r) },
    );
  }

  /** A consumed record → its partition's lanes. */
  private readonly partitionOf = new PartitionsByHandle(() => this.progressOf.keys());

  /** Starts routing `p` from target offset `p.route.next`. */
  add(p: Lanes): void {
    this.partitionOf.forget();
    this.progressOf.set(p, { next: p.route.next, targetEnd: -1, routedRecords: 0, routedBytes: 0 });
    this.consumer.incrementalAssign([{ topic: p.topic, partition: p.partition, offset: p.route.next }]);
  }

  /** The source producer's librdkafka out-queue (for metrics). */
  get queuedMessages(): number {
    return this.producer.outstanding;
  }

  progress(p: Lanes): RoutedProgress | undefined {
    const r = this.progressOf.get(p);
    return r && { ...r, next: p.route.next };
  }

  poll(): void {
    this.producer.poll();
  }

  /** Everything the target had when last seen is routed or skipped, nothing in flight. */
  caughtUp(): boolean {
    for (const p of this.progressOf.keys()) if (!p.route.failed && !this.drained(p)) return false;
    return true;
  }

  drained(p: Lanes): boolean {
    const r = this.progressOf.get(p);
    if (!r) return true;
    return r.targetEnd >= 0 && p.route.inFlight.length === 0 && p.route.next >= r.targetEnd;
  }

  /** Promote: stop routing `p`. */
  retire(p: Lanes): void {
    this.progressOf.delete(p);
    try {
      this.consumer.pause([{ topic: p.topic, partition: p.partition }]);
    } catch {
      // closing
    }
  }

  /**
   * Resume of a stopped partition: `p`'s lanes are done with (the partition starts again with new
   * ones, as after a restart). Resolves when none of its records is in flight any more.
   */
  async release(p: Lanes): Promise<void> {
    p.route.failed = true; // its position stays where it is; later reports are matched by content at the start
    this.progressOf.delete(p);
    this.partitionOf.forget();
    try {
      this.consumer.incrementalUnassign([{ topic: p.topic, partition: p.partition }]);
    } catch {
      // closing
    }
    const inFlight = () => [...this.expected.values()].some((e) => e.p === p);
    while (inFlight()) if (this.producer.poll() === 0) await Bun.sleep(5);
  }

  async run(): Promise<void> {
    let idle = 0;
    while (!this.stopping) {
      if (this.options.mayWrite && !this.options.mayWrite()) break; // the lease ended: not one batch more
      if (this.inFlightBytes > this.options.maxInFlightBytes) {
        if (this.producer.poll() === 0) await Bun.sleep(1);
        continue;
      }
      const messages = this.progressOf.size ? this.consumer.consumeBatch(2000, 0) : [];
      if (messages.length === 0) {
        this.producer.poll();
        await Bun.sleep(Math.min(++idle, 10));
        continue;
      }
      idle = 0;
      for (const m of messages) {
        const p = this.partitionOf.of(m);
        try {
          const pending = this.handle(m, p);
          if (pending) await pending;
        } catch (err) {
          m.destroy();
          if (p) this.fail(p, err as Error);
        }
      }
      this.producer.poll();
    }
  }

  stop(): void {
    this.stopping = true;
  }

  private handle(m: ConsumedMessage, p: Lanes | undefined): Promise<void> | void {
    if (!p || p.route.failed || !this.progressOf.has(p)) return m.destroy(); // unknown, stopped or promoted
    if (m.errorCode) {
      const err = m.isPartitionEof ? null : m.error;
      const end = m.offset;
      m.destroy();
      if (err) return this.fail(p, err);
      const r = this.progressOf.get(p);
      if (r && end > r.targetEnd) r.targetEnd = end;
      return;
    }
    const offset = m.offset;
    if (offset < p.route.next) return m.destroy(); // decided before (a re-fetch)
    const verdict = p.classifyTarget(offset);
    if (verdict === "wait") return this.waitThenHandle(m, p);
    if (verdict === "skip") {
      this.options.ledger.skipped(p.route, offset);
      return m.destroy();
    }
    this.forward(p, m);
  }

  /** The record may be the Fetcher's own copy whose delivery report has not been served yet. */
  private async waitThenHandle(m: ConsumedMessage, p: Lanes): Promise<void> {
    const offset = m.offset;
    for (;;) {
      this.options.pollFetcher();
      const verdict = p.classifyTarget(offset);
      if (verdict === "skip") {
        this.options.ledger.skipped(p.route, offset);
        return m.destroy();
      }
      if (verdict === "copy") return this.forward(p, m);
      if (p.fetch.failed) throw new Error(`the Fetcher of ${p.topic}[${p.partition}] stopped; cannot tell whether target offset ${offset} is its copy`);
      await Bun.sleep(1);
    }
  }

  private forward(p: Lanes, m: ConsumedMessage): void {
    const offset = m.offset;
    const bytes = m.valueLength + m.keyLength;
    let id = 0;
    try {
      id = this.producer.forward(m, p.topic, p.partition);
      while (id === 0) {
        this.producer.poll(QUEUE_FULL_WAIT_MS); // the queue is full: wait for delivery reports
        id = this.producer.forward(m, p.topic, p.partition);
      }
    } catch (err) {
      m.destroy();
      throw err;
    }
    this.expected.set(id, { p, offset, bytes });
    this.options.ledger.sent(p.route, offset);
    this.inFlightBytes += bytes;
    if (!this.firstRouted.has(p.topic)) {
      this.firstRouted.add(p.topic);
      this.options.onFirstRouted(p, offset);
    }
  }

  private delivered(r: DeliveryReport): void {
    const e = this.expected.get(r.id);
    if (!e) return;
    this.expected.delete(r.id);
    this.inFlightBytes -= e.bytes;
    if (r.error) return this.fail(e.p, r.error);
    this.options.ledger.acknowledged(e.p, e.p.route, e.offset, r.offset);
    const progress = this.progressOf.get(e.p);
    if (progress) {
      progress.routedRecords++;
      progress.routedBytes += e.bytes;
    }
  }

  private fail(p: Lanes, err: Error): void {
    if (p.route.failed) return;
    p.route.failed = true;
    try {
      this.consumer.pause([{ topic: p.topic, partition: p.partition }]);
    } catch {
      // closing
    }
    this.options.onFailed(p, err);
  }

  async close(): Promise<void> {
    await this.producer.close();
    this.consumer.close();
  }
}
