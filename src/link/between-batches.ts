/**
 * Work the Link's run loop does between two batches, so that nothing else copies meanwhile:
 * `klink resume`, and link.spread's lending and taking back. When the loop ends, a request not
 * served yet fails with its `whenStopped` error; one without resolves once the Link is closed
 * (close() flushed or dropped everything: nothing is left to do).
 */
interface Request {
  run: () => Promise<unknown>;
  done: (value: unknown) => void;
  failed: (err: Error) => void;
  whenStopped?: Error;
}

export class BetweenBatches {
  private queue: Request[] = [];
  private loopEnded = false;
  private closed = false;

  ask<T>(run: () => Promise<T>, whenStopped?: Error): Promise<T> {
    if (whenStopped && this.loopEnded) return Promise.reject(whenStopped);
    if (this.closed) return Promise.resolve(undefined as T);
    return new Promise<T>((done, failed) => this.queue.push({ run, done: done as (value: unknown) => void, failed, whenStopped }));
  }

  /** Runs what was asked, in order (the run loop, between batches). */
  async serve(): Promise<void> {
    for (let r = this.queue.shift(); r; r = this.queue.shift()) await r.run().then(r.done, r.failed);
  }

  /** The run loop ended: requests that cannot wait for the close fail now. */
  stopped(): void {
    this.loopEnded = true;
    for (const r of this.queue) if (r.whenStopped) r.failed(r.whenStopped);
    this.queue = this.queue.filter((r) => !r.whenStopped);
  }

  /** The Link is closed: the others resolve (and one that cannot wait, asked after all, fails). */
  close(): void {
    this.loopEnded = this.closed = true;
    for (const r of this.queue.splice(0)) {
      if (r.whenStopped) r.failed(r.whenStopped);
      else r.done(undefined);
    }
  }
}
