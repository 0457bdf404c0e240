/**
 * Progress of the link per topic: records/s and MB/s since the last report, lag in records
 * (source end − next offset to copy), and the time to catch up at the current rate.
 */
import type { PartitionProgress } from "../link/partition/progress.ts";
import { log, type Fields } from "../log.ts";

export interface TopicProgress {
  topic: string;
  partitions: number;
  copiedRecords: number;
  copiedBytes: number;
  lagRecords: number;
  /** Age of the oldest recently copied record among lagging partitions (CreateTime), or null. */
  lagSeconds: number | null;
  stopped: number;
  /** Of those, interrupted by a cluster that did not answer in time: klink tries them again itself. */
  retrying: number;
  /** Lifecycle state: mirroring, dual-write, ... */
  state: string;
  /** Dual write: records routed target → source this run, and what the Router has still to read. */
  routedRecords: number;
  routerLagRecords: number;
  /** Partitions copied as record batches (link.fastLane). */
  fastLane: number;
}

export function byTopic(partitions: PartitionProgress[]): TopicProgress[] {
  const out = new Map<string, TopicProgress>();
  for (const p of partitions) {
    const t = out.get(p.topic) ?? {
      topic: p.topic, partitions: 0, copiedRecords: 0, copiedBytes: 0, lagRecords: 0, lagSeconds: null, stopped: 0, retrying: 0,
      state: p.topicState ?? "mirroring", routedRecords: 0, routerLagRecords: 0, fastLane: 0,
    };
    if (p.lane === "fast") t.fastLane++;
    if (p.routed) {
      t.routedRecords += p.routed.routedRecords;
      t.routerLagRecords += Math.max(0, p.routed.targetEnd - p.routed.next);
    }
    t.partitions++;
    t.copiedRecords += p.copiedRecords;
    t.copiedBytes += p.copiedBytes;
    const lag = Math.max(0, p.sourceEnd - p.next);
    t.lagRecords += lag;
    if (lag > 0 && p.copiedTimestamp > 0) t.lagSeconds = Math.max(t.lagSeconds ?? 0, Math.max(0, (Date.now() - p.copiedTimestamp) / 1000));
    if (p.error) t.stopped++;
    if (p.retrying) t.retrying++;
    out.set(p.topic, t);
  }
  return [...out.values()];
}

/**
 * Prints progress per topic, through the logger (info). On a terminal, in text format, it is a
 * live view: the block of topic lines is redrawn in place every 2 s, and other log lines appear
 * above it. Elsewhere (and in json format: no ANSI redraw) it is one line per topic every 10 s.
 */
export class ProgressReporter {
  private timer: Timer | null = null;
  private last = new Map<string, { records: number; bytes: number; at: number }>();
  /** Lines of the live block on screen (terminal only). */
  private drawn: string[] = [];

  constructor(
    private readonly read: () => PartitionProgress[],
    private readonly tty = Boolean(process.stderr.isTTY) && log.format === "text" && log.enabled("info"),
    private readonly everyMs = tty ? 2_000 : 10_000,
  ) {}

  start(): void {
    if (this.tty) log.setWriter((line) => this.logAbove(line));
    this.timer = setInterval(() => this.report(), this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.tty) log.setWriter(null);
  }

  /** A finished log line; on a terminal it goes above the live block, which is drawn again below it. */
  private logAbove(line: string): void {
    if (this.drawn.length === 0) return void process.stderr.write(`${line}\n`);
    process.stderr.write(`\x1b[${this.drawn.length}F\x1b[J${line}\n${this.drawn.join("\n")}\n`);
  }

  /** One line per topic. `final`: totals instead of rates, printed as plain lines. */
  report(final = false): void {
    const now = performance.now();
    const lines: Array<{ line: string; fields: Fields }> = [];
    for (const t of byTopic(this.read())) {
      const prev = this.last.get(t.topic) ?? { records: 0, bytes: 0, at: now - this.everyMs };
      const seconds = Math.max((now - prev.at) / 1000, 0.001);
      const rps = (t.copiedRecords - prev.records) / seconds;
      const mbps = (t.copiedBytes - prev.bytes) / seconds / 1e6;
      this.last.set(t.topic, { records: t.copiedRecords, bytes: t.copiedBytes, at: now });
      const eta = rps > 0 && t.lagRecords > 0 ? `, caught up in ~${Math.ceil(t.lagRecords / rps)} s` : "";
      const held = t.stopped - t.retrying;
      const stopped = `${held ? `, ${held} partition(s) STOPPED` : ""}${t.retrying ? `, ${t.retrying} partition(s) interrupted (a cluster did not answer; klink tries again)` : ""}`;
      const routed = t.state === "mirroring" ? "" : ` [${t.state}: ${t.routedRecords} routed target → source, router lag ${t.routerLagRecords}]`;
      const fields: Fields = { topic: t.topic, state: t.state, copiedRecords: t.copiedRecords, lagRecords: t.lagRecords, lagSeconds: t.lagSeconds, stoppedPartitions: t.stopped };
      lines.push(
        final
          ? { line: `${t.topic}: ${t.copiedRecords} records (${(t.copiedBytes / 1e6).toFixed(1)} MB) copied, lag ${t.lagRecords}${routed}${stopped}`, fields }
          : { line: `${t.topic}: ${Math.round(rps)} records/s, ${mbps.toFixed(1)} MB/s, lag ${t.lagRecords} records${t.lagSeconds === null ? "" : ` (~${Math.round(t.lagSeconds)} s)`}${eta}${routed}${stopped}`, fields: { ...fields, recordsPerSecond: Math.round(rps) } },
      );
    }
    if (this.tty && !final) {
      const clear = this.drawn.length ? `\x1b[${this.drawn.length}F\x1b[J` : "";
      this.drawn = lines.map((l) => `  ${l.line}`);
      process.stderr.write(log.redact(`${clear}${this.drawn.join("\n")}\n`));
      return;
    }
    if (this.drawn.length) process.stderr.write(`\x1b[${this.drawn.length}F\x1b[J`);
    this.drawn = [];
    for (const l of lines) log.info(l.line, l.fields);
  }
}
