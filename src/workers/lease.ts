/**
 * A worker's ownership lease (docs/workers.md, "Ownership is a lease"): it runs until
 * `sent + session timeout − margin`, where `sent` is when the worker sent the last request whose
 * answer proved it was still a member of the group; while the group rebalances, no further than
 * `rebalance timeout − margin` after the last such answer that found the group stable (the
 * coordinator drops a member that has not rejoined by then). Times are performance.now(), which
 * goes on while the process is paused, so a paused worker finds its lease over when it wakes.
 */
export class Lease {
  /** performance.now() at which the lease ends. */
  private end = 0;
  /** When the last request was sent that found the group stable: a rebalance began after it. */
  private stableSent = 0;
  private timer: Timer | null = null;
  private stopped = false;

  constructor(
    private readonly o: {
      sessionTimeoutMs: number;
      rebalanceTimeoutMs: number;
      marginMs: number;
      /** Called (by a timer, so possibly late) once the lease has ended without renewal. */
      onEnd: () => void;
    },
  ) {}

  /** An answer to a request sent at `sent` proved membership; `stable`: it found no rebalance going on. */
  renew(sent: number, stable: boolean): void {
    if (stable) this.stableSent = Math.max(this.stableSent, sent);
    const end = Math.min(sent + this.o.sessionTimeoutMs, this.stableSent + this.o.rebalanceTimeoutMs) - this.o.marginMs;
    if (end <= this.end || this.stopped) return;
    this.end = end;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped && !this.holds()) this.o.onEnd();
    }, Math.max(0, end - performance.now()));
  }

  /** The clock's answer, not a timer's: the data path asks this before every write. */
  holds(): boolean {
    return !this.stopped && performance.now() < this.end;
  }

  /** When the lease ends (epoch ms). */
  get endsAt(): number {
    return performance.timeOrigin + this.end;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
