/**
 * The Fetcher: the data path source → target. Per consumed source record m of partition p:
 *
 *   exact mode (docs/offsets.md):
 *     1. m is *held* until what follows it on the source is known; exact-plan.ts decides what
 *        can be written (`advance`);
 *     2. records go zero-copy through the idempotent producer, never inside a transaction; holes
 *        (markers, aborted or compacted-away records) get invisible slots from the partition's
 *        filler transactions (`writeInvisible`, fillers.ts);
 *     3. each delivery report must carry the source offset (`delivered`): a lower one stops the
 *        partition, a higher one means a producer wrote to the target: dual write begins.
 *   translate mode (dual write, docs/loops.md): m is copied unless the Router wrote it (ledger.ts),
 *     and every copy gets an offset-map row.
 *
 * The Link (link.ts) owns the partitions, the Router and the Ledger and runs the loop; the
 * Fetcher owns the source consumer and the target producer.
 */
import { Producer, Consumer, KafkaError, ErrorCode, type Admin, type ConsumedMessage, type DeliveryReport } from "../rdkafka/index.ts";
import { isWaitTooLong, RETRY_STOPPED_MS } from "./interrupted.ts";
import { QUEUE_FULL_WAIT_MS, copyingConsumer, forwardingProducer } from "../config/copying-clients.ts";
import type { Cluster } from "./cluster.ts";
import { PartitionFillers } from "./fillers.ts";
import { nextStep, type Step } from "./exact-plan.ts";
import type { Ledger } from "./ledger.ts";
import type { Router } from "./router.ts";
import { PartitionsByHandle } from "./partitions-by-handle.ts";
import { eofHighWatermark } from "./partition-end.ts";
import type { LinkedPartition } from "./partition/partition.ts";

/** How long a record before a one-slot hole waits for a later hole before it is committed with the marker. */
const LOOKAHEAD_MS = 2_000;

export interface FetcherContext {
  linkName: string;
  source: Cluster;
  target: Cluster;
  targetAdmin: Admin;
  ledger: Ledger;
  router: Router;
  /** Cap on bytes read and not yet acknowledged by the target (backpressure). */
  maxInFlightBytes: number;
  /** limits.memory (the consumer's fetch sizes follow it). */
  memoryBytes: number;
  /** Every partition being copied, for a consumed record's lookup. */
  partitions: () => Iterable<LinkedPartition>;
  /** A producer wrote straight to target partition `p` at `at`; `inFlight`: the source offsets forwarded and not acknowledged. Synchronous. */
  onDualWrite: (p: LinkedPartition, at: number, inFlight: number[], seen: string) => void;
  log: (line: string) => void;
  /** link.standby: records not acknowledged within this time fail instead of being sent later (docs/workers.md). */
  messageTimeoutMs?: number;
}

export type Assignment = Array<{ topic: string; partition: number; offset: number }>;

export class Fetcher {
  readonly consumer: Consumer;
  /** The target producer (also the start alignment's, align.ts). */
  readonly producer: Producer;
  private inFlightBytes = 0;
  /** Bytes of records read and held (exact mode), not forwarded yet. */
  private heldBytes = 0;
  /** When the batch being handled was read (one clock read per batch, not per record). */
  private batchAt = 0;
  /** A consumed record → its partition. */
  private readonly partitionOf: PartitionsByHandle<LinkedPartition>;

  constructor(private readonly ctx: FetcherContext) {
    this.producer = new Producer(
      forwardingProducer(ctx.target.config, ctx.messageTimeoutMs),
      { ...ctx.target.options, onDelivery: (r) => this.delivered(r), onError: (e) => e.fatal && ctx.log(`target producer: ${e.message}`) },
    );
    this.consumer = new Consumer({ ...ctx.source.config, ...copyingConsumer(ctx), "enable.partition.eof": true }, ctx.source.options);
    this.partitionOf = new PartitionsByHandle(ctx.partitions);
  }

  /** Partitions were added: they are consumed from the given offsets. */
  assign(assignment: Assignment, incremental: boolean): void {
    this.partitionOf.forget();
    if (incremental) this.consumer.incrementalAssign(assignment);
    else this.consumer.assign(assignment);
  }

  /**
   * Stopped partitions before they start again (Link.resume): their delivery reports served, their
   * filler producer closed, the source consumer no longer assigned to them.
   */
  async release(stopped: LinkedPartition[]): Promise<void> {
    for (const p of stopped) {
      while (p.inFlight > 0 || p.filling) if (this.producer.poll() === 0) await Bun.sleep(5);
      await p.fillers?.close().catch(() => {}); // the restarted partition's fillers fence it anyway
      this.fillersToEnd.delete(p);
    }
    this.partitionOf.forget();
    this.consumer.incrementalUnassign(stopped.map((p) => ({ topic: p.topic, partition: p.partition })));
  }

  /** Partitions released and assigned again: the pause from their stop is lifted (librdkafka keeps it across assignments). */
  unpause(assignment: Assignment): void {
    this.consumer.resume(assignment.map((a) => ({ topic: a.topic, partition: a.partition })));
  }

  /**
   * One round of the loop: due timers, then one batch of records. "full": too much is held or in
   * flight (nothing was read); "idle": nothing to read.
   */
  async step(): Promise<"read" | "idle" | "full"> {
    const lookahead = this.revisitLookahead();
    if (lookahead) await lookahead;
    await this.endFillerTransactions();
    if (this.inFlightBytes + this.heldBytes > this.ctx.maxInFlightBytes) {
      // Held records count too: a long wait for a later hole ends by the lookahead timer.
      if (this.producer.poll() === 0) await Bun.sleep(1);
      return "full";
    }
    const messages = this.consumer.consumeBatch(2000, 0);
    if (messages.length === 0) {
      this.producer.poll();
      return "idle";
    }
    this.batchAt = performance.now();
    const read: LinkedPartition[] = [];
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      const p = this.partitionOf.of(m); // found now: handle() may free m
      if (p && p !== read[read.length - 1]) read.push(p); // a batch holds runs of one partition's records
      try {
        const pending = this.handle(m, p);
        if (pending) await pending;
      } catch (err) {
        if (p) this.fail(p, err as Error);
        m.destroy();
      }
    }
    for (const p of read) {
      try {
        const pending = this.endFromWatermark(p);
        if (pending) await pending;
      } catch (err) {
        this.fail(p, err as Error);
      }
    }
    this.producer.poll();
    return "read";
  }

  /** The end, from the high watermark of the fetch that carried the last record read (partition-end.ts): that record is written now. */
  private endFromWatermark(p: LinkedPartition): Promise<void> | void {
    if (p.state !== "exact" || !p.copying || p.atEnd || p.held.length === 0) return;
    if (this.consumer.lastHighWatermark(p.topic, p.partition) !== p.known) return;
    p.atEnd = true;
    p.openTransactionAtEnd = false;
    return this.advance(p);
  }

  /** Serves the target producer's delivery reports. */
  poll(): number {
    return this.producer.poll();
  }

  /** One consumed message: synchronous on the hot path, a promise when a transaction or an event must be awaited. */
  private handle(m: ConsumedMessage, p: LinkedPartition | undefined): Promise<void> | void {
    if (!p) return this.topicError(m);
    if (m.errorCode) return this.partitionEvent(p, m);
    const offset = m.offset;
    if (!p.copying) return m.destroy();
    if (p.state === "translate") return this.handleTranslated(p, m, offset);
    if (offset < p.known) return m.destroy(); // read before (a re-fetch after a seek)
    const size = m.valueLength + m.keyLength;
    p.held.push(m, offset, size);
    this.heldBytes += size;
    p.known = offset + 1;
    p.atEnd = false;
    if (p.held.length === 2 && p.held.at(0) === p.next && offset === p.next + 1) return this.forwardHeld(p); // the common case
    return this.advance(p);
  }

  // ---------------------------------------------------------------------------------------------
  // exact mode

  /** Writes what can be written now, as exact-plan.ts decides; a promise while a transaction is written. */
  advance(p: LinkedPartition): Promise<void> | void {
    while (p.state === "exact") {
      const step = nextStep({
        next: p.next, held: p.held, known: p.known, atEnd: p.atEnd, openTransactionAtEnd: p.openTransactionAtEnd, openFiller: p.openFiller,
        mayCommitHeld: p.lookaheadSince > 0 && performance.now() - p.lookaheadSince >= LOOKAHEAD_MS,
      });
      if (step.action === "forward") {
        this.forwardHeld(p);
        continue;
      }
      if (step.action === "wait") {
        if (step.until === "lookahead") {
          if (p.lookaheadSince === 0) p.lookaheadSince = performance.now();
          this.lookingAhead.add(p);
        }
        return;
      }
      return this.writeInvisible(p, step).then(() => this.advance(p));
    }
  }

  /** Partitions whose held record waits for a later hole: looked at again when LOOKAHEAD_MS has passed. */
  private readonly lookingAhead = new Set<LinkedPartition>();

  private revisitLookahead(): Promise<void> | void {
    for (const p of this.lookingAhead) {
      if (performance.now() - p.lookaheadSince < LOOKAHEAD_MS) continue;
      this.lookingAhead.delete(p);
      const pending = this.advance(p);
      if (pending) return pending.catch((err) => this.fail(p, err as Error));
    }
  }

  private forwardHeld(p: LinkedPartition): void {
    const { message, offset, size } = p.held.shift();
    this.heldBytes -= size;
    p.lookaheadSince = 0;
    this.forward(p, message, this.checkSize(p, message, offset, size), offset);
  }

  /** Fillers, filler markers, or the held record committed with its marker, at the target's end. */
  private async writeInvisible(p: LinkedPartition, step: Exclude<Step, { action: "forward" | "wait" }>): Promise<void> {
    const c = this.ctx;
    p.filling = true;
    try {
      await this.drain(p); // nothing of ours in flight to the partition: the next slot is p.next
      if (p.state !== "exact") return; // dual write began meanwhile: holes need no filling any more
      const at = p.next;
      if (step.action === "closeStale") {
        p.fillers = await PartitionFillers.open(c.target, c.linkName, c.targetAdmin, p.topic, p.partition, at);
        p.openFiller = "none";
        p.next = at + 1;
        return;
      }
      p.fillers ??= await PartitionFillers.open(c.target, c.linkName, c.targetAdmin, p.topic, p.partition);
      if (step.action === "commitHeld") {
        const { message, size } = p.held.shift();
        this.heldBytes -= size;
        p.lookaheadSince = 0;
        this.checkSize(p, message);
        await p.fillers.commitRecord(message, at);
        p.next = at + 2;
        p.copiedRecords++;
        p.copiedBytes += size;
        return;
      }
      await p.fillers.addFillers(step.fillers, at);
      p.next = at + step.fillers;
      if (step.fillers > 0) p.openFiller = "ours";
      if (step.close) {
        await p.fillers.abort(p.next);
        p.next++;
        p.openFiller = "none";
      }
    } finally {
      p.filling = false;
      if (p.state === "translate") this.fillersToEnd.add(p);
    }
  }

  /** Partitions that went to translate mode with a filler transaction open. */
  private readonly fillersToEnd = new Set<LinkedPartition>();

  /**
   * Dual write began on a partition while a filler transaction was open on it: offsets differ
   * from there anyway, so end it now (its marker lands at the end), or target readers, the Router
   * among them, would see nothing after it.
   */
  private async endFillerTransactions(): Promise<void> {
    for (const p of this.fillersToEnd) {
      if (p.filling) continue;
      this.fillersToEnd.delete(p);
      if (p.openFiller === "none") continue;
      try {
        if (p.openFiller === "ours") await p.fillers!.abortAnywhere();
        else p.fillers = await PartitionFillers.open(this.ctx.target, this.ctx.linkName, this.ctx.targetAdmin, p.topic, p.partition);
        p.openFiller = "none";
      } catch (err) {
        this.fail(p, err as Error);
      }
    }
  }

  /** Dual write began on `p` (exact → translate): records it still holds are copied in translate mode. */
  translated(p: LinkedPartition): void {
    this.lookingAhead.delete(p);
    this.fillersToEnd.add(p);
  }

  // ---------------------------------------------------------------------------------------------
  // translate mode

  /** Copies the record unless the Router wrote it (or waits until that is known). */
  private handleTranslated(p: LinkedPartition, m: ConsumedMessage, offset: number): Promise<void> | void {
    while (p.held.length) this.releaseHeld(p);
    if (offset < p.next) return m.destroy();
    const lanes = p.lanes!;
    const verdict = lanes.classifySource(offset);
    if (verdict === "copy") return this.forward(p, m, this.checkSize(p, m));
    if (verdict === "skip") {
      this.ctx.ledger.skipped(lanes.fetch, offset);
      p.next = offset + 1;
      return m.destroy();
    }
    return this.waitThenHandle(p, m, offset);
  }

  /** The record may be the Router's copy whose delivery report has not been served yet. */
  private async waitThenHandle(p: LinkedPartition, m: ConsumedMessage, offset: number): Promise<void> {
    const lanes = p.lanes!;
    for (;;) {
      this.ctx.router.poll();
      const verdict = lanes.classifySource(offset); // a "skip" verdict consumes its entry: act on it
      if (verdict === "skip") {
        this.ctx.ledger.skipped(lanes.fetch, offset);
        p.next = offset + 1;
        return m.destroy();
      }
      if (verdict === "copy") return this.forward(p, m, this.checkSize(p, m));
      if (lanes.route.failed) throw new Error(`the Router of ${p.topic}[${p.partition}] stopped; cannot tell whether source offset ${offset} is its copy`);
      await Bun.sleep(1);
    }
  }

  /** A record held in exact mode when the partition went to translate mode: copy it now. */
  private releaseHeld(p: LinkedPartition): void {
    const { message, offset, size } = p.held.shift();
    this.heldBytes -= size;
    if (offset < p.next) return message.destroy();
    const verdict = p.lanes!.classifySource(offset);
    if (verdict === "skip") {
      this.ctx.ledger.skipped(p.lanes!.fetch, offset);
      p.next = offset + 1;
      message.destroy();
      return;
    }
    this.forward(p, message, size); // "wait" cannot be: the Router started after this record existed
  }

  // ---------------------------------------------------------------------------------------------
  // events

  /** Partition end (EOF) or a partition error. */
  private partitionEvent(p: LinkedPartition, m: ConsumedMessage): Promise<void> | void {
    const end = m.offset;
    const err = m.isPartitionEof ? null : m.error;
    const highWatermark = err ? null : eofHighWatermark(m);
    m.destroy();
    if (err) return this.fail(p, err);
    p.sourceEnd = end;
    if (p.state === "translate") {
      while (p.held.length) this.releaseHeld(p);
      if (end > p.next) {
        // Only holes (markers, aborted records) before the end: nothing left to decide there.
        this.ctx.ledger.skipped(p.lanes!.fetch, end - 1);
        p.next = end;
      }
      return;
    }
    if (p.state !== "exact" || end < p.known) return;
    p.known = end;
    p.atEnd = true;
    p.openTransactionAtEnd = highWatermark !== null && highWatermark > end;
    return this.advance(p);
  }

  /** An error about a whole topic (deleted, not authorized) or about no topic at all. */
  private topicError(m: ConsumedMessage): void {
    const topic = m.topic;
    const err = m.error;
    m.destroy();
    if (!err) return;
    const affected = [...this.ctx.partitions()].filter((q) => q.topic === topic);
    if (affected.length) for (const q of affected) this.fail(q, err);
    else this.ctx.log(`source consumer: ${err.message}`);
  }

  // ---------------------------------------------------------------------------------------------
  // writing

  /** The record's key and value bytes; throws (and frees it) when the target topic cannot take it. */
  private checkSize(p: LinkedPartition, m: ConsumedMessage, offset = m.offset, bytes = m.valueLength + m.keyLength): number {
    if (bytes > p.maxRecordBytes) {
      m.destroy();
      throw new KafkaError(
        ErrorCode.MSG_SIZE_TOO_LARGE,
        `record at offset ${offset} is ${bytes} bytes, more than the target topic's max.message.bytes (${p.maxRecordBytes}); raise it on the target topic and restart`,
      );
    }
    return bytes;
  }

  /** Zero-copy to the same target partition through the idempotent producer (the message is the producer's then). */
  private forward(p: LinkedPartition, m: ConsumedMessage, bytes: number, offset = m.offset): void {
    if ((offset & 255) === 0 || p.copiedTimestamp === 0) p.copiedTimestamp = m.timestamp().timestamp; // a sample is enough for "lag ~N s"
    let id = 0;
    try {
      id = this.producer.forward(m);
      while (id === 0) {
        // librdkafka's queue is full: wait for delivery reports (spinning on refusals cost a third of the CPU).
        this.producer.poll(QUEUE_FULL_WAIT_MS);
        id = this.producer.forward(m);
      }
    } catch (err) {
      m.destroy(); // refused: still ours (a message never freed would block the consumer's close)
      throw err;
    }
    p.unacknowledged.push(id, offset, bytes);
    this.inFlightBytes += bytes;
    p.next = offset + 1;
    if (p.lanes) this.ctx.ledger.sent(p.lanes.fetch, offset);
    p.lastOriginalAt = this.batchAt;
  }

  private delivered(r: DeliveryReport): void {
    const p = this.partitionOf.named(r.topic, r.partition);
    const e = p?.unacknowledged.take(r.id);
    if (!p || !e) return; // not a forwarded record's (the start alignment's)
    this.inFlightBytes -= e.size;
    if (r.error) {
      if (p.lanes) p.lanes.fetch.failed = true;
      return this.fail(p, r.error);
    }
    if (p.state === "exact" && r.offset !== e.offset) {
      if (r.offset < e.offset) return this.fail(p, new KafkaError(ErrorCode.STATE, `source offset ${e.offset} landed at target offset ${r.offset}, below it; the target partition was recreated or truncated`));
      // A producer wrote to the target partition: records from e.offset on are not at equal offsets.
      this.ctx.onDualWrite(p, e.offset, [e.offset, ...p.unacknowledged.pendingOffsets()], `source offset ${e.offset} landed at target offset ${r.offset}`);
    }
    if (p.lanes) this.ctx.ledger.acknowledged(p.lanes, p.lanes.fetch, e.offset, r.offset);
    p.copiedRecords++;
    p.copiedBytes += e.size;
  }

  /** Waits until every record forwarded for `p` is acknowledged (before a transactional write). */
  private async drain(p: LinkedPartition): Promise<void> {
    while (p.inFlight > 0) {
      if (this.producer.poll() === 0) await Bun.sleep(1);
    }
    if (p.error) throw new Error(p.error);
  }

  /** Stops `p` (the others go on): what it holds is freed, its source partition paused. */
  fail(p: LinkedPartition, err: Error): void {
    const retry = isWaitTooLong(err);
    if (!p.stop(err.message, retry ? performance.now() + RETRY_STOPPED_MS : null)) return;
    if (retry) this.ctx.log(`${p.topic}[${p.partition}]: interrupted: ${err.message}; copying starts again in ${RETRY_STOPPED_MS / 1000} s`);
    else this.ctx.log(`${p.topic}[${p.partition}]: stopped: ${err.message}`);
    this.dropHeld(p);
    this.pause(p);
  }

  /**
   * limits.memory (memory-guard.ts): stops or restarts fetching every partition being copied.
   * librdkafka drops what it had prefetched for them (freed at the next read) and fetches again
   * from the last record read; end-of-partition events dropped so come again (the exact path
   * waits for them: test/rdkafka/pause-eof.test.ts).
   */
  fetching(on: boolean): void {
    const copying = [...this.ctx.partitions()].filter((p) => p.copying).map((p) => ({ topic: p.topic, partition: p.partition }));
    if (on) this.consumer.resume(copying);
    else this.consumer.pause(copying);
  }

  /** Promote: `p` is not copied any more. */
  retire(p: LinkedPartition): void {
    if (!p.promote()) return;
    this.dropHeld(p);
    this.pause(p);
  }

  /** link.spread: `p` goes to another worker; what it holds is dropped (read again there), its source partition paused. */
  letGo(p: LinkedPartition): void {
    this.dropHeld(p);
    this.pause(p);
  }

  private dropHeld(p: LinkedPartition): void {
    this.heldBytes -= p.held.bytes;
    p.held.destroyAll();
    this.lookingAhead.delete(p);
  }

  private pause(p: LinkedPartition): void {
    try {
      this.consumer.pause([{ topic: p.topic, partition: p.partition }]);
    } catch {
      // the consumer may be closing
    }
  }

  /** Records still held (their successor unknown) are dropped and read again on restart; forwarded ones are flushed. */
  async close(partitions: Iterable<LinkedPartition>): Promise<void> {
    for (const p of partitions) p.held.destroyAll();
    this.heldBytes = 0;
    await this.producer.close();
    for (const p of partitions) await p.fillers?.close();
    this.consumer.close();
  }
}
