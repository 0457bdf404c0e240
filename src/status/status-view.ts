/**
 * The progress GET /status answers (besides who answers, server.ts): each partition, each topic
 * with records/s, MB/s and lag in records and seconds as the progress lines show them, the groups,
 * and with `?history` the lag per topic over the last minutes (for the dashboard's chart). Times
 * are the wall clock's, as ISO strings. While klink starts, `phase` says what it waits for.
 */
import type { PartitionProgress } from "../link/partition/progress.ts";
import type { GroupProgress } from "../link/handoff.ts";
import { byTopic, type TopicProgress } from "./progress.ts";
import type { ClusterReach } from "../link/reachability.ts";

/** How often the link is sampled, and how many samples are kept (10 minutes). */
const SAMPLE_MS = 5_000;
const KEPT_SAMPLES = 120;
/** A rate is computed over at least this long. */
const MIN_RATE_WINDOW_MS = 2_000;

export interface Running {
  partitions: PartitionProgress[];
  groups: GroupProgress[];
  /** Whether each cluster answered klink's last ask (reachability.ts). */
  clusters: Record<"source" | "target", ClusterReach> | null;
}

export interface TopicStatus extends TopicProgress {
  /** Since the sample 2–7 s ago; null in the first seconds. */
  recordsPerSecond: number | null;
  megabytesPerSecond: number | null;
}

interface Sample {
  at: number;
  topics: Map<string, { records: number; bytes: number; lag: number }>;
}

export class StatusView {
  /** What klink is doing while it starts (GET /status answers it until the link runs). */
  phase = "starting";
  private readonly samples: Sample[] = [];
  private timer: Timer | null = null;

  /** `read`: the running link's progress; null while klink is starting. */
  constructor(private readonly read: () => Running | null) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The progress with wall-clock times and rates; null while klink is starting. */
  snapshot(history = false): object | null {
    const running = this.read();
    if (!running) return null;
    const now = Date.now();
    const base = this.samples.findLast((s) => s.at <= now - MIN_RATE_WINDOW_MS);
    const topics: TopicStatus[] = byTopic(running.partitions).map((t) => {
      const was = base?.topics.get(t.topic);
      const seconds = base ? (now - base.at) / 1000 : 0;
      return {
        ...t,
        recordsPerSecond: was ? round(Math.max(0, t.copiedRecords - was.records) / seconds, 1) : null,
        megabytesPerSecond: was ? round(Math.max(0, t.copiedBytes - was.bytes) / seconds / 1e6, 3) : null,
      };
    });
    const partitions = running.partitions.map((p) => ({ ...p, copiedRecordTime: p.copiedTimestamp > 0 ? new Date(p.copiedTimestamp).toISOString() : null }));
    return { at: new Date(now).toISOString(), clusters: running.clusters, partitions, topics, groups: running.groups, ...(history ? { lagHistory: this.lagHistory() } : {}) };
  }

  /** Lag in records per topic at each sample of the last minutes, oldest first. */
  private lagHistory(): Array<{ at: string; lag: Record<string, number> }> {
    return this.samples.map((s) => ({ at: new Date(s.at).toISOString(), lag: Object.fromEntries([...s.topics].map(([topic, t]) => [topic, t.lag])) }));
  }

  private sample(): void {
    const running = this.read();
    if (!running) return;
    const topics = new Map(byTopic(running.partitions).map((t) => [t.topic, { records: t.copiedRecords, bytes: t.copiedBytes, lag: t.lagRecords }]));
    this.samples.push({ at: Date.now(), topics });
    if (this.samples.length > KEPT_SAMPLES) this.samples.shift();
  }
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
