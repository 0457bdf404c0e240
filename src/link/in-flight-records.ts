/**
 * The records the Fetcher forwarded to one target partition and whose delivery report has not come
 * yet, oldest first. The idempotent producer reports one partition's records in the order they
 * were produced, so a report is matched with the oldest entry: no map keyed by report id on the
 * hot path (a Map of ~100,000 live entries cost ~0.3 µs a record, the queue ~0.02 µs). A report
 * that is not the oldest (not expected to happen) is looked for in the whole queue.
 */
export class InFlightRecords {
  private ids: number[] = [];
  private offsets: number[] = [];
  private sizes: number[] = [];
  private head = 0;

  get length(): number {
    return this.ids.length - this.head;
  }

  push(id: number, offset: number, size: number): void {
    this.ids.push(id);
    this.offsets.push(offset);
    this.sizes.push(size);
  }

  /** Removes the entry of report `id`; its source offset and size, or null when `id` is not here (another writer's report). */
  take(id: number): { offset: number; size: number } | null {
    let i = this.head;
    if (this.ids[i] !== id) {
      i = this.ids.indexOf(id, this.head);
      if (i < 0) return null;
    }
    const taken = { offset: this.offsets[i]!, size: this.sizes[i]! };
    if (i === this.head) this.head++;
    else for (const a of [this.ids, this.offsets, this.sizes]) a.splice(i, 1);
    if (this.head === this.ids.length) this.clear();
    else if (this.head > 1024 && this.head * 2 > this.ids.length) this.compact();
    return taken;
  }

  /** The source offsets still in flight, oldest first. */
  pendingOffsets(): number[] {
    return this.offsets.slice(this.head);
  }

  private clear(): void {
    this.ids = [];
    this.offsets = [];
    this.sizes = [];
    this.head = 0;
  }

  private compact(): void {
    this.ids = this.ids.slice(this.head);
    this.offsets = this.offsets.slice(this.head);
    this.sizes = this.sizes.slice(this.head);
    this.head = 0;
  }
}
