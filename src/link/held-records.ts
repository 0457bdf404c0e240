/**
 * Records the Fetcher has read from one source partition and not written yet, oldest first: a
 * record waits until what follows it on the source is known (exact-plan.ts). The queue owns the
 * messages: `shift` hands one over, `destroyAll` frees what is left.
 */
import type { ConsumedMessage } from "../rdkafka/index.ts";
import type { HeldOffsets } from "./exact-plan.ts";

export class HeldRecords implements HeldOffsets {
  private messages: ConsumedMessage[] = [];
  private offsets: number[] = [];
  private sizes: number[] = [];
  private head = 0;
  /** Held records that do not follow their predecessor directly (kept so gapAfter is O(1)). */
  private gaps = 0;
  /** Key and value bytes of the records held. */
  bytes = 0;

  get length(): number {
    return this.messages.length - this.head;
  }

  at(index: number): number {
    return this.offsets[this.head + index]!;
  }

  gapAfter(index: number): boolean {
    const before = index >= 1 && this.length > 1 && this.at(1) > this.at(0) + 1 ? 1 : 0; // only index 0 and 1 are asked
    if (index > 1) throw new Error("gapAfter: only for the first two held records");
    return this.gaps - (index === 1 ? before : 0) > 0;
  }

  push(message: ConsumedMessage, offset: number, size: number): void {
    if (this.length > 0 && offset > this.offsets[this.offsets.length - 1]! + 1) this.gaps++;
    this.messages.push(message);
    this.offsets.push(offset);
    this.sizes.push(size);
    this.bytes += size;
  }

  /** The oldest record; the caller owns it now. */
  shift(): { message: ConsumedMessage; offset: number; size: number } {
    if (this.length === 0) throw new Error("no held record");
    const i = this.head++;
    if (this.head < this.offsets.length && this.offsets[this.head]! > this.offsets[i]! + 1) this.gaps--;
    const taken = { message: this.messages[i]!, offset: this.offsets[i]!, size: this.sizes[i]! };
    this.bytes -= taken.size;
    if (this.head === this.messages.length) this.clear();
    else if (this.head > 1024 && this.head * 2 > this.messages.length) this.compact();
    return taken;
  }

  destroyAll(): void {
    for (let i = this.head; i < this.messages.length; i++) this.messages[i]!.destroy();
    this.clear();
    this.bytes = 0;
  }

  private clear(): void {
    this.gaps = 0;
    this.messages = [];
    this.offsets = [];
    this.sizes = [];
    this.head = 0;
  }

  private compact(): void {
    this.messages = this.messages.slice(this.head);
    this.offsets = this.offsets.slice(this.head);
    this.sizes = this.sizes.slice(this.head);
    this.head = 0;
  }
}
