/**
 * Workload "compacted": a compact topic with 1 s segments and an eager cleaner
 * (min.cleanable.dirty.ratio 0.01, min.compaction.lag.ms 0, delete.retention.ms 1 s), written by
 * an idempotent librdkafka producer with few keys, tombstones and headers. Before klink starts,
 * the cleaner must have made holes in every partition, the first offsets included (an emptied
 * head: log start 0, first record later); it keeps compacting while klink copies. Exact mode.
 */
import { ErrorCode, KafkaError, Producer, type DeliveryReport } from "../../src/rdkafka/index.ts";
import { createTopic } from "../harness/tools.ts";
import { plain, uniqueName } from "../helpers.ts";
import type { Expected } from "./acked-oracle.ts";
import { checkExactMirror } from "./mirror-check.ts";
import { readWithLibrdkafka } from "./read-cluster.ts";
import type { Violation } from "./violations.ts";
import type { Workload, WorkloadContext } from "./workload.ts";

const CONFIGS = {
  "cleanup.policy": "compact",
  "segment.ms": "1000",
  "min.cleanable.dirty.ratio": "0.01",
  "min.compaction.lag.ms": "0",
  "delete.retention.ms": "1000",
};
const HOLES_TIMEOUT_MS = 120_000;

interface Written {
  id: string;
  key: string;
  tombstone: boolean;
  partition?: number;
  offset?: number;
}

export class CompactedWorkload implements Workload {
  readonly name = "compacted";
  readonly offsets = "exact";
  readonly topic = uniqueName("nem-compact");
  readonly topics = [this.topic];
  private producer: Producer | null = null;
  private readonly inFlight = new Map<number, Written>();
  private readonly acked: Written[] = [];
  /** key → highest seq of a record whose delivery failed (it may be on the source anyway, superseding earlier ones) */
  private readonly failedLast = new Map<string, number>();
  private failed = 0;
  private seq = 0;
  private readonly keys: number;
  private writing: Promise<void> | null = null;
  private running = false;
  private readonly setupViolations: Violation[] = [];

  constructor(private readonly ctx: WorkloadContext) {
    this.keys = ctx.rng.int(20, 80);
  }

  async prepare(): Promise<void> {
    const { clusters, partitions, rng, log } = this.ctx;
    await createTopic(clusters.source, this.topic, { partitions, configs: CONFIGS });
    this.producer = new Producer(plain(clusters.source, { acks: "all", "linger.ms": 5 }), { onDelivery: (r) => this.delivered(r) });
    const count = rng.int(2_000, 5_000);
    await this.write(count, 800); // over a few seconds, so that segments roll and the cleaner has work
    await this.producer.flush(60_000);
    log(`${this.topic}: ${count} records on ${this.keys} keys written before klink starts (${this.acked.length} acknowledged); waiting for the cleaner`);
    await this.waitForHoles();
  }

  async startLive(): Promise<void> {
    this.running = true;
    const rate = this.ctx.rng.int(50, 300);
    this.writing = (async () => {
      while (this.running) await this.write(Math.ceil(rate / 10), rate);
    })();
  }

  async stopLive(): Promise<void> {
    this.running = false;
    await this.writing;
    await this.producer!.flush(120_000).catch((err) => this.ctx.log(`${this.topic}: flush: ${err.message}`));
    await this.producer!.close(10_000);
    this.producer = null;
    this.ctx.log(`${this.topic}: ${this.seq} records written, ${this.acked.length} acknowledged, ${this.failed} failed`);
  }

  async check(): Promise<Violation[]> {
    // the last acknowledged record of each key, unless a tombstone, must survive every cleaner
    const last = new Map<string, Written>();
    for (const w of this.acked) {
      const k = `${w.partition}/${w.key}`;
      if ((last.get(k)?.offset ?? -1) < w.offset!) last.set(k, w);
    }
    const superseded = (w: Written) => last.get(`${w.partition}/${w.key}`) !== w || (this.failedLast.get(w.key) ?? -1) > Number(w.id);
    const expected: Expected[] = this.acked.map((w) => ({ id: w.id, partition: w.partition!, offset: w.offset, compactable: w.tombstone || superseded(w) }));
    const idOf = (r: { headers: string }) => /(?:^|,)id:(\d+)(?:,|$)/.exec(r.headers)?.[1] ?? null;
    return [...this.setupViolations, ...(await checkExactMirror(this.ctx.clusters, this.topic, { compacted: true, expected, idOf, log: this.ctx.log }))];
  }

  async kill(): Promise<void> {
    this.running = false;
    await this.writing?.catch(() => {});
    await this.producer?.close(1_000).catch(() => {});
    this.producer = null;
  }

  /** `count` records at `rate` per second. */
  private async write(count: number, rate: number): Promise<void> {
    const { rng } = this.ctx;
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const key = `k${rng.int(0, this.keys - 1)}`;
      const tombstone = rng.chance(0.05);
      const id = String(this.seq);
      const value = tombstone ? null : `c.${id}.${"x".repeat(rng.int(10, 200))}`;
      for (;;) {
        try {
          const deliveryId = this.producer!.produce({ topic: this.topic, key, value, headers: [["id", id], ["writer", "nemesis"]], timestamp: Date.now() });
          this.inFlight.set(deliveryId, { id, key, tombstone });
          this.seq++;
          break;
        } catch (err) {
          if (!(err instanceof KafkaError && err.code === ErrorCode.QUEUE_FULL)) throw err;
          await Bun.sleep(50);
        }
      }
      const due = ((i + 1) / rate) * 1000 - (performance.now() - t0);
      if (due > 5) await Bun.sleep(due);
    }
  }

  private delivered(r: DeliveryReport): void {
    const w = this.inFlight.get(r.id);
    if (!w) return;
    this.inFlight.delete(r.id);
    if (r.error) {
      this.failed++;
      this.failedLast.set(w.key, Math.max(this.failedLast.get(w.key) ?? -1, Number(w.id)));
    } else this.acked.push({ ...w, partition: r.partition, offset: r.offset });
  }

  /** Until every partition has holes and its first offsets compacted away (log start 0, first record later). */
  private async waitForHoles(): Promise<void> {
    const { clusters, log } = this.ctx;
    const deadline = Date.now() + HOLES_TIMEOUT_MS;
    let state = "";
    for (;;) {
      const records = await readWithLibrdkafka(clusters.source, this.topic);
      const lacking: string[] = [];
      for (let p = 0; p < this.ctx.partitions; p++) {
        const offsets = records.filter((r) => r.partition === p).map((r) => r.offset);
        const holes = offsets.filter((o, i) => i > 0 && o !== offsets[i - 1]! + 1).length;
        if (offsets.length === 0 || offsets[0] === 0 || holes === 0) lacking.push(`[${p}] first record at ${offsets[0] ?? "none"}, ${holes} hole(s)`);
      }
      state = lacking.join(", ");
      if (!lacking.length) {
        log(`${this.topic}: the cleaner made holes in every partition and emptied each head (${records.length} records left)`);
        return;
      }
      if (Date.now() > deadline) break;
      // a record now and then rolls the last segment, so the cleaner can reach it
      await this.write(this.ctx.partitions * 2, 20);
      await Bun.sleep(3_000);
    }
    this.setupViolations.push({ kind: "setup: the cleaner made no holes", where: this.topic, detail: `after ${HOLES_TIMEOUT_MS / 1000} s: ${state}; the compacted workload did not test what it should` });
    log(`${this.topic}: the cleaner did not make the expected holes in time: ${state}`);
  }
}
