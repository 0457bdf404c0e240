/**
 * KLINK_DEBUG_MESSAGES=1: a census of consumed messages not yet freed, reported when their
 * consumer closes. librdkafka's consumer close waits until every message it handed out is freed,
 * so a message never destroyed shows up as a close that hangs; the report says how many, which
 * records, and where they were consumed. Off by default: it costs a map entry per message and a
 * stack trace per batch.
 */
import { MessageStruct } from "./message-struct.ts";
import { errorName } from "./errors.ts";

interface Owner {
  readonly name: string;
  topicName(rkt: number): string;
}

interface Entry {
  consumer: Owner;
  /** The caller's frames of the consumeBatch / consume call that returned the message. */
  consumedAt: string;
  /** The producer that took the message over in `forward`, until it frees it. */
  forwardedTo: string | null;
}

class MessageCensus {
  /** Keyed by `rd_kafka_message_t*`: an address is unique while its message lives. */
  private readonly live = new Map<number, Entry>();

  /** The calling stack (up to 6 frames) without this frame and the `bindingFrames` below it. */
  caller(bindingFrames: number): string {
    const frames = (new Error().stack ?? "").split("\n").slice(2 + bindingFrames, 8 + bindingFrames);
    return frames.map((f) => `    ${f.trim()}`).join("\n");
  }

  consumed(pointers: ArrayLike<bigint>, count: number, consumer: Owner, consumedAt: string): void {
    for (let i = 0; i < count; i++) this.live.set(Number(pointers[i]), { consumer, consumedAt, forwardedTo: null });
  }

  forwarded(pointer: number, producer: string): void {
    const entry = this.live.get(pointer);
    if (entry) entry.forwardedTo = producer;
  }

  freed(pointer: number): void {
    this.live.delete(pointer);
  }

  /** A report of `consumer`'s messages not freed yet, or null when there are none. */
  report(consumer: Owner): string | null {
    const neverDestroyed = new Map<string, string[]>(); // consumed at -> records
    const forwarded = new Map<string, number>(); // producer -> count
    for (const [pointer, e] of this.live) {
      if (e.consumer !== consumer) continue;
      if (e.forwardedTo !== null) {
        forwarded.set(e.forwardedTo, (forwarded.get(e.forwardedTo) ?? 0) + 1);
        continue;
      }
      const rkt = MessageStruct.rkt(pointer);
      const record = `${rkt ? consumer.topicName(rkt) : "(no topic)"}[${MessageStruct.partition(pointer)}]@${MessageStruct.offset(pointer)}`;
      const list = neverDestroyed.get(e.consumedAt) ?? [];
      const code = MessageStruct.err(pointer);
      list.push(code ? `${record} (event ${errorName(code)})` : record);
      neverDestroyed.set(e.consumedAt, list);
    }
    if (neverDestroyed.size === 0 && forwarded.size === 0) return null;
    const lines: string[] = [];
    const count = [...neverDestroyed.values()].reduce((n, l) => n + l.length, 0);
    if (count) {
      lines.push(`KLINK_DEBUG_MESSAGES: consumer ${consumer.name} closes with ${count} consumed message(s) never destroyed; its close waits until they are freed:`);
      for (const [at, records] of neverDestroyed) {
        const shown = records.length > 10 ? [...records.slice(0, 10), `... ${records.length - 10} more`] : records;
        lines.push(`  ${shown.join(", ")}, consumed at:`, at);
      }
    }
    for (const [producer, n] of forwarded) {
      lines.push(`KLINK_DEBUG_MESSAGES: consumer ${consumer.name} closes with ${n} forwarded message(s) that producer ${producer} has not freed yet (their delivery reports were not served): flush or close the producer first`);
    }
    return lines.join("\n");
  }
}

/** The census when KLINK_DEBUG_MESSAGES=1, else null (read once, at start). */
export const messageCensus: MessageCensus | null = process.env.KLINK_DEBUG_MESSAGES === "1" ? new MessageCensus() : null;
