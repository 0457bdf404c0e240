/**
 * Work the link's run loop starts every `intervalMs` in the background, one round at a time: a
 * round still running when the loop ticks again is not started twice, and `idle()` waits for it
 * (before the admin clients it uses close). Failures are the round's own to report.
 */
export class BackgroundRound {
  private last = performance.now();
  private running = false;

  constructor(private readonly intervalMs: number, private readonly round: () => Promise<void>) {}

  /** Called by the run loop; starts a round when one is due and none runs. */
  tick(): void {
    if (this.running || performance.now() - this.last < this.intervalMs) return;
    this.running = true;
    this.round()
      .catch(() => {}) // a cluster that does not answer: tried again next round
      .finally(() => {
        this.running = false;
        this.last = performance.now();
      });
  }

  async idle(): Promise<void> {
    while (this.running) await Bun.sleep(5);
  }
}
