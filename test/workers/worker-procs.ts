/**
 * Worker processes (worker-proc.ts) for the worker-group tests, their event logs on one clock,
 * and the judge: for each partition, the ownership intervals of all workers never overlap.
 */
import { join } from "node:path";

export const SESSION_MS = 6_000;
export const PARTITIONS = 12;

export interface Interval {
  pid: number;
  partition: string;
  from: number;
  to: number;
}

export class Worker {
  readonly proc: ReturnType<typeof Bun.spawn>;
  readonly events: any[] = [];
  readonly owned = new Set<string>();
  readonly intervals: Interval[] = [];
  exited = false;
  private stderr = "";

  constructor(bootstrap: string, group: string) {
    this.proc = Bun.spawn([process.execPath, join(import.meta.dir, "worker-proc.ts"), bootstrap, group, String(PARTITIONS), String(SESSION_MS)], { stdout: "pipe", stderr: "pipe" });
    void this.read();
    void new Response(this.proc.stderr as ReadableStream).text().then((t) => (this.stderr = t));
    void this.proc.exited.then(() => (this.exited = true));
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** Ends every open interval at `t` (the process was killed then). */
  endAll(t: number): void {
    for (const p of this.owned) this.close(p, t);
    this.owned.clear();
  }

  summary(): string {
    return `worker ${this.pid}: ${this.events.map((e) => e.type + (e.partitions ? `(${e.partitions.length})` : "") + (e.message ? `: ${e.message}` : "")).join(", ")}${this.stderr ? `\nstderr: ${this.stderr}` : ""}`;
  }

  private async read(): Promise<void> {
    let buffered = "";
    for await (const chunk of this.proc.stdout as ReadableStream<Uint8Array>) {
      buffered += new TextDecoder().decode(chunk);
      for (let nl; (nl = buffered.indexOf("\n")) >= 0; buffered = buffered.slice(nl + 1)) {
        const line = buffered.slice(0, nl);
        if (line.trim()) this.apply(JSON.parse(line));
      }
    }
  }

  private apply(e: any): void {
    this.events.push(e);
    if (e.type === "assigned") for (const p of e.partitions) (this.owned.add(p), this.intervals.push({ pid: this.pid, partition: p, from: e.t, to: Infinity }));
    if (e.type === "revoked") for (const p of e.partitions) (this.owned.delete(p), this.close(p, e.t));
    if (e.type === "lost") for (const p of e.partitions) (this.owned.delete(p), this.close(p, e.leaseEndedAt));
  }

  private close(partition: string, t: number): void {
    const open = this.intervals.find((i) => i.partition === partition && i.to === Infinity);
    if (open) open.to = t;
  }
}

/** Kills every worker still running (call in afterAll). */
export function killAll(workers: Worker[]): void {
  for (const w of workers) {
    if (w.exited) continue;
    try {
      process.kill(w.pid, "SIGCONT");
      process.kill(w.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

export const sizes = (ws: Worker[]) => ws.map((w) => w.owned.size);
export const cover = (ws: Worker[]) => new Set(ws.flatMap((w) => [...w.owned])).size === PARTITIONS && ws.reduce((n, w) => n + w.owned.size, 0) === PARTITIONS;
/** Every partition owned once, and the shares differ by at most one (or are all `each`). */
export const balanced = (ws: Worker[], each?: number) => {
  const n = sizes(ws);
  return cover(ws) && (each === undefined ? Math.max(...n) - Math.min(...n) <= 1 : n.every((x) => x === each));
};
export const report = (ws: Worker[]) => ({ exited: false, summary: () => ws.map((w) => w.summary()).join("\n") });

/** The judge: throws naming the first partition that two workers owned at the same time. */
export function expectNoOverlap(workers: Worker[]): void {
  const intervals = workers.flatMap((w) => w.intervals);
  for (let i = 0; i < PARTITIONS; i++) {
    const mine = intervals.filter((x) => x.partition === `orders/${i}`).sort((a, b) => a.from - b.from);
    for (let k = 1; k < mine.length; k++) {
      if (mine[k]!.from < mine[k - 1]!.to) throw new Error(`orders/${i}: worker ${mine[k]!.pid} owned it from ${mine[k]!.from}, before worker ${mine[k - 1]!.pid} let go at ${mine[k - 1]!.to}`);
    }
  }
}
