/**
 * limits.memory: the Link's loop asks `check()` between batches (it measures at most every
 * 100 ms). Above the high mark (90% of the limit) fetching pauses; it resumes below the low mark
 * (70%), so that it does not flap around one value.
 *
 * Most of klink's memory on a backlog is librdkafka's prefetch queue: records fetched and
 * decompressed, not read yet. Pausing a partition drops that queue (librdkafka frees it at the
 * next read and fetches again from the last record read when it resumes), so a pause frees what
 * klink has not used yet and keeps what it holds (records waiting or in flight, capped by
 * limits.inFlightBytes). Freed memory is handed back to the system (process-memory.ts) before
 * pausing, and again every second while paused, since a freed heap otherwise stays resident.
 *
 * After a resume, fetching stays on for at least RUN_MS, so that records are read between two
 * pauses (a pause drops a response being decompressed). When a pause frees nothing more (RSS stays
 * above the low mark for STUCK_MS), what remains is not prefetched records: fetching resumes for at
 * least STUCK_MS rather than waiting forever, and `stuck` says so.
 */
import { residentBytes, returnFreedMemory } from "./process-memory.ts";

/** What the guard measures and frees; injected so that its hysteresis can be tested alone. */
export interface MemoryProbe {
  now(): number;
  /** Resident memory, bytes. */
  rss(): number;
  /** Hands freed memory back to the system. */
  release(): void;
}

export type MemoryAction = { action: "pause" | "resume"; rss: number; stuck: boolean };

const CHECK_MS = 100;
const RELEASE_MS = 1_000;
const RUN_MS = 1_000;
const STUCK_MS = 5_000;

export class MemoryGuard {
  readonly high: number;
  readonly low: number;
  /** Fetching is paused for memory. */
  paused = false;
  private lastCheck = -Infinity;
  private lastRelease = -Infinity;
  private pausedAt = 0;
  /** No pause before this time (fetching resumed a moment ago). */
  private runUntil = -Infinity;

  constructor(
    /** limits.memory, bytes. */
    readonly limit: number,
    private readonly probe: MemoryProbe,
  ) {
    this.high = Math.floor(limit * 0.9);
    this.low = Math.floor(limit * 0.7);
  }

  /** Between batches: whether fetching must pause or may resume now (null: no change). */
  check(): MemoryAction | null {
    const now = this.probe.now();
    if (now - this.lastCheck < CHECK_MS) return null;
    this.lastCheck = now;
    let rss = this.probe.rss();
    if (!this.paused) {
      if (rss <= this.high || now < this.runUntil) return null;
      if (now - this.lastRelease >= RELEASE_MS) {
        rss = this.release(now); // freed memory that malloc kept may be all there is to it
        if (rss <= this.high) return null;
      }
      this.paused = true;
      this.pausedAt = now;
      return { action: "pause", rss, stuck: false };
    }
    if (rss >= this.low && now - this.lastRelease >= RELEASE_MS) rss = this.release(now); // the dropped prefetch, freed since
    if (rss < this.low) return this.resume(now, rss, false);
    if (now - this.pausedAt >= STUCK_MS) return this.resume(now, rss, true);
    return null;
  }

  private release(now: number): number {
    this.lastRelease = now;
    this.probe.release();
    return this.probe.rss();
  }

  private resume(now: number, rss: number, stuck: boolean): MemoryAction {
    this.paused = false;
    this.runUntil = now + (stuck ? STUCK_MS : RUN_MS);
    return { action: "resume", rss, stuck };
  }
}

/** The guard of this process. */
export function processMemoryGuard(limit: number): MemoryGuard {
  return new MemoryGuard(limit, { now: () => performance.now(), rss: residentBytes, release: returnFreedMemory });
}

const MiB = 2 ** 20;

/** The log line for a change. */
export function describeMemoryAction(a: MemoryAction, guard: MemoryGuard): string {
  const mib = (b: number) => `${Math.round(b / MiB)} MiB`;
  if (a.action === "pause") return `memory: pausing fetching: RSS ${mib(a.rss)} is above ${mib(guard.high)} (90% of limits.memory ${mib(guard.limit)}); prefetched records are dropped and fetched again later`;
  if (!a.stuck) return `memory: resuming fetching: RSS ${mib(a.rss)} is below ${mib(guard.low)}`;
  return `memory: resuming fetching: RSS stays at ${mib(a.rss)} with fetching paused, above ${mib(guard.low)}; what remains is not prefetched records (raise limits.memory, or lower limits.inFlightBytes)`;
}
