/**
 * Steady-state end-to-end latency at a fixed rate: records are produced to the source at `rate`
 * records/s while the replicator runs; both topics use message.timestamp.type=LogAppendTime, so
 * each record carries the time its broker appended it. Latency = target append time − source
 * append time, matched by key. The first `warmupS` seconds are not counted.
 */
import type { Clusters } from "./clusters.ts";
import { createTopics, deleteTopics, withAdmin } from "./clusters.ts";
import { KEY_BYTES, SEED, produceWithRetry, producerConfig, readTopic, seeded, seqOf, valuePool, writeSeq } from "./dataset.ts";
import { recordsOnTarget } from "./measure.ts";
import type { Case } from "./options.ts";
import { startReplicator, type Tool } from "./tools.ts";
import { Producer } from "../../src/rdkafka/index.ts";

export interface Latency {
  rate: number;
  achievedRate: number;
  measured: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** seconds the target needed, after the last record was produced, to hold every record */
  drainS: number;
  /** p99 and max per second of the measured window (by source append time): where the tail comes from */
  perSecond: Array<{ second: number; records: number; p99Ms: number; maxMs: number }>;
}

export interface LatencyRun {
  tool: Tool;
  kase: Case;
  partitions: number;
  rate: number;
  warmupS: number;
  measureS: number;
  mm2Tasks: number;
  sourceLibrdkafka: Record<string, string>;
  log: (s: string) => void;
}

const quantile = (sorted: Float64Array, q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

export async function measureLatency(c: Clusters, run: LatencyRun): Promise<Latency> {
  const { tool, kase, partitions } = run;
  const topic = `bench-latency-${kase.id}-${tool}`;
  const configs = { "message.timestamp.type": "LogAppendTime" };
  await deleteTopics(c.source, (n) => n === topic);
  await deleteTopics(c.target, (n) => n === topic);
  await createTopics(c.source, [{ name: topic, partitions, configs }]);
  await createTopics(c.target, [{ name: topic, partitions, configs }]);
  const expected = { topic, expected: Array<number>(partitions).fill(0), base: Array<number>(partitions).fill(0) };
  const r = await startReplicator(tool, c, { topics: [topic], partitions, compression: kase.compression, untilCaughtUp: false, mm2Tasks: run.mm2Tasks, sourceLibrdkafka: run.sourceLibrdkafka });
  const producer = new Producer(producerConfig(c.source, kase.compression));
  try {
    return await withAdmin(c.target, async (admin) => {
      const waitFor = async (counts: number[], timeoutMs: number, what: string) => {
        const deadline = performance.now() + timeoutMs;
        for (;;) {
          const have = await recordsOnTarget(admin, { ...expected, expected: counts });
          if (have.every((n, p) => n >= counts[p]!)) return;
          if (!r.running()) throw new Error(`${tool} exited during the latency run (${what})\n${r.logTail()}`);
          if (performance.now() > deadline) throw new Error(`${tool}: ${what}: ${have.reduce((a, b) => a + b, 0)} of ${counts.reduce((a, b) => a + b, 0)} records after ${timeoutMs / 1000} s\n${r.logTail()}`);
          await Bun.sleep(100);
        }
      };
      // one record per partition, to know the replicator is up before the clock starts
      const pool = valuePool(kase.valueBytes);
      const next = seeded(SEED + 1);
      const key = Buffer.alloc(KEY_BYTES);
      let seq = 0;
      const send = (s: number) => produceWithRetry(producer, { topic, partition: s % partitions, key: writeSeq(key, s), value: pool[Math.floor(next() * pool.length)]! });
      for (; seq < partitions; seq++) await send(seq);
      await producer.flush();
      await waitFor(Array<number>(partitions).fill(1), 180_000, "waiting for the first records");

      const seconds = run.warmupS + run.measureS;
      const start = performance.now();
      const measureFrom = Date.now() + run.warmupS * 1000;
      const first = seq;
      for (;;) {
        const elapsed = (performance.now() - start) / 1000;
        if (elapsed >= seconds) break;
        const due = first + Math.floor(elapsed * run.rate);
        // at most 20 ms worth at once, so a stall does not turn into a burst
        const limit = Math.min(due, seq + Math.ceil(run.rate / 50));
        for (; seq < limit; seq++) await send(seq);
        producer.poll();
        await Bun.sleep(1);
      }
      await producer.flush(120_000);
      const producedS = (performance.now() - start) / 1000;
      const achievedRate = (seq - first) / producedS;
      const total = seq;
      const counts = Array.from({ length: partitions }, (_, p) => Math.floor(total / partitions) + (p < total % partitions ? 1 : 0));
      const drainStart = performance.now();
      await waitFor(counts, 300_000, "draining");
      const drainS = (performance.now() - drainStart) / 1000;
      await r.stop();

      const sourceTime = new Float64Array(total).fill(NaN);
      await readTopic(c.source, topic, partitions, (m) => {
        const s = seqOf(m);
        if (s >= 0 && s < total) sourceTime[s] = m.timestamp().timestamp;
      });
      const latencies: number[] = [];
      const bySecond: number[][] = [];
      await readTopic(c.target, topic, partitions, (m) => {
        const s = seqOf(m);
        const t0 = s >= 0 && s < total ? sourceTime[s]! : NaN;
        if (t0 >= measureFrom) {
          const l = m.timestamp().timestamp - t0;
          latencies.push(l);
          (bySecond[Math.floor((t0 - measureFrom) / 1000)] ??= []).push(l);
        }
      });
      const sorted = Float64Array.from(latencies).sort();
      const perSecond = [...bySecond.entries()].filter(([, xs]) => xs?.length).map(([second, xs]) => {
        const s = Float64Array.from(xs).sort();
        return { second, records: s.length, p99Ms: quantile(s, 0.99), maxMs: s[s.length - 1]! };
      });
      run.log(`  ${tool}: ${sorted.length} records at ${Math.round(achievedRate)} rec/s: p50 ${quantile(sorted, 0.5)} ms, p99 ${quantile(sorted, 0.99)} ms, drained in ${drainS.toFixed(1)} s`);
      return { rate: run.rate, achievedRate, measured: sorted.length, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99), maxMs: sorted[sorted.length - 1] ?? NaN, drainS, perSecond };
    });
  } finally {
    await producer.close();
    await r.stop();
    await deleteTopics(c.source, (n) => n === topic);
    await deleteTopics(c.target, (n) => n === topic);
  }
}
