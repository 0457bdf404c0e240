/**
 * What `klink bench` measures, one phase at a time, each on its own so the numbers add up:
 * writing to the source, reading it back, the raw librdkafka pipe (consumer → producer, no klink
 * logic: the ceiling of the exact lane), the fast lane (record batches copied as bytes; a preview,
 * not yet used by `klink run`), klink's exact lane (the Link, as `klink run` copies) and end-to-end
 * latency while the lane runs. CPU is this process's (all its threads).
 */
import { Admin, Consumer, KafkaError, Offset, Producer, type ConsumedMessage } from "../rdkafka/index.ts";
import { ErrorCode } from "../rdkafka/errors.ts";
import { groupSettings, type Cluster } from "../link/cluster.ts";
import type { BenchRecord } from "./dataset.ts";
import { asRefusal } from "./scratch.ts";
import { GroupClient } from "../group/index.ts";
import { BatchCopier } from "../fast-lane/batch-copier.ts";

export interface Measured {
  phase: string;
  records: number;
  bytes: number;
  seconds: number;
  cpuSeconds: number;
}

export interface Latency {
  records: number;
  p50: number;
  p99: number;
  max: number;
}

export type Progress = (phase: string, bytes: number, totalBytes: number) => void;

/** A phase that makes no progress for this long fails, saying where it stood, instead of hanging. */
export const STALL_MS = 60_000;

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

export async function timed(phase: string, work: () => Promise<{ records: number; bytes: number }>): Promise<Measured> {
  const [t0, c0] = [performance.now(), cpuSeconds()];
  const { records, bytes } = await work();
  return { phase, records, bytes, seconds: (performance.now() - t0) / 1000, cpuSeconds: cpuSeconds() - c0 };
}

const size = (r: BenchRecord) => (r.key?.length ?? 0) + (r.value?.length ?? 0);

/** Writes `totalBytes` of `records` (cycled) to `topic`, round robin over its partitions. */
export function write(cluster: Cluster, topic: string, partitions: number, records: BenchRecord[], totalBytes: number, compression: string, progress: Progress): Promise<Measured> {
  return timed(`write to the source (${compression})`, async () => {
    let failed: KafkaError | null = null;
    const producer = new Producer(
      { ...cluster.config, "linger.ms": 5, "batch.size": 1_000_000, "compression.type": compression },
      { ...cluster.options, onDelivery: (r) => void (r.error && (failed ??= r.error)) },
    );
    let bytes = 0;
    let n = 0;
    try {
      for (; bytes < totalBytes && !failed; n++) {
        const r = records[n % records.length]!;
        while (!tryProduce(producer, { topic, partition: n % partitions, key: r.key, value: r.value })) await Bun.sleep(1);
        bytes += size(r);
        if (n % 5000 === 0) progress("write", bytes, totalBytes);
      }
      await producer.flush(300_000);
    } finally {
      await producer.close();
    }
    if (failed) throw asRefusal("source", failed);
    return { records: n, bytes };
  });
}

function tryProduce(producer: Producer, record: Parameters<Producer["produce"]>[0]): boolean {
  try {
    producer.produce(record);
    return true;
  } catch (err) {
    if (err instanceof KafkaError && err.code === ErrorCode.QUEUE_FULL) return false;
    throw err;
  }
}

/** Reads every record of `topic` from its start to its end as it is now. */
export function read(cluster: Cluster, topic: string, partitions: number, totalBytes: number, progress: Progress): Promise<Measured> {
  return timed("read from the source", () =>
    consumeAll(cluster, topic, partitions, () => false, (bytes) => progress("read", bytes, totalBytes)),
  );
}

/** The raw librdkafka pipe: each record of `from` forwarded to `to` on the target, same partition. */
export function pipe(source: Cluster, target: Cluster, from: string, to: string, partitions: number, totalBytes: number, progress: Progress): Promise<Measured> {
  return timed("raw librdkafka pipe", async () => {
    let failed: KafkaError | null = null;
    const producer = new Producer({ ...target.config, "linger.ms": 5, "batch.size": 1_000_000 }, { ...target.options, onDelivery: (r) => void (r.error && (failed ??= r.error)) });
    try {
      // forward() returns 0 while the producer's queue is full; the producer frees what it took
      const counted = await consumeAll(source, from, partitions, (m) => producer.forward(m, to, m.partition) !== 0 || (async () => {
        while (producer.forward(m, to, m.partition) === 0) await Bun.sleep(1);
        return true;
      })(), (bytes) => progress("pipe", bytes, totalBytes));
      await producer.flush(300_000);
      if (failed) throw asRefusal("target", failed);
      return counted;
    } finally {
      await producer.close();
    }
  });
}

/**
 * The fast lane (docs/fast-lane.md): `from`'s record batches copied as bytes into `to` on the
 * target, same partitions and offsets, in rounds over all partitions until each reaches the end
 * it had when the phase started.
 */
export function fastLane(source: Cluster, target: Cluster, from: string, to: string, partitions: number, totalBytes: number, progress: Progress): Promise<Measured> {
  return timed("fast lane (preview)", async () => {
    const client = (c: Cluster) => new GroupClient(groupSettings(c));
    const [s, t] = [client(source), client(target)];
    const admin = new Admin(source.config, source.options);
    try {
      const ends = (await admin.watermarks(Array.from({ length: partitions }, (_, partition) => ({ topic: from, partition })))).map((m) => m.high);
      const total = ends.reduce((a, b) => a + b, 0);
      const lane = new BatchCopier(s, t, { targetTopic: () => to });
      let parts = ends.map((_, partition) => ({ partition: { topic: from, partition }, next: 0 }));
      let lastNews = performance.now();
      while (parts.some((x) => x.next < ends[x.partition.partition]!)) {
        const open = parts.filter((x) => x.next < ends[x.partition.partition]!);
        for (const r of await lane.copyRounds(open)) {
          if (r.error && !r.error.retriable) throw asRefusal("target", r.error);
          if (r.stoppedAt) throw new Error(`the fast lane stopped ${from}[${r.partition.partition}] at offset ${r.stoppedAt.offset}: ${r.stoppedAt.reason}`);
          if (r.next > parts[r.partition.partition]!.next) lastNews = performance.now();
          parts[r.partition.partition]!.next = r.next;
        }
        if (performance.now() - lastNews > STALL_MS) throw new Error(`the fast lane copied nothing for ${STALL_MS / 1000} s`);
        const copied = parts.reduce((n, x) => n + x.next, 0);
        progress("fast lane", (copied / total) * totalBytes, totalBytes);
      }
      // the lane's acknowledgements say it; the target's own end offsets must say it too
      const targetAdmin = new Admin(target.config, target.options);
      const copied = await targetAdmin.watermarks(ends.map((_, partition) => ({ topic: to, partition }))).finally(() => targetAdmin.close());
      const short = copied.filter((m) => m.high !== ends[m.partition]);
      if (short.length) throw new Error(`the fast lane's copy ends elsewhere than the source: ${short.map((m) => `${to}[${m.partition}] at ${m.high}, source ${ends[m.partition]}`).join("; ")}`);
      return { records: total, bytes: totalBytes };
    } finally {
      admin.close();
      s.close();
      t.close();
    }
  });
}

/**
 * Consumes `topic` from its start until every partition reported its end. `each` returns true when
 * it took the message over (it is not destroyed here).
 */
async function consumeAll(cluster: Cluster, topic: string, partitions: number, each: (m: ConsumedMessage) => boolean | Promise<boolean>, progress: (bytes: number) => void): Promise<{ records: number; bytes: number }> {
  const consumer = new Consumer({ ...cluster.config, "enable.partition.eof": true, "enable.auto.commit": false, "fetch.max.bytes": 52_428_800, "max.partition.fetch.bytes": 10_485_760 }, cluster.options);
  let records = 0;
  let bytes = 0;
  try {
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: Offset.BEGINNING })));
    let lastNews = performance.now();
    for (let open = partitions; open > 0; ) {
      const batch = await consumer.consume(10_000, 200);
      if (batch.length) lastNews = performance.now();
      else if (performance.now() - lastNews > STALL_MS) throw new Error(`reading ${topic}: nothing arrived for ${STALL_MS / 1000} s, ${open} of ${partitions} partitions not at their end (${records} records read)`);
      for (const m of batch) {
        if (m.isPartitionEof) {
          open--;
          m.destroy();
          continue;
        }
        if (m.errorCode) {
          const err = m.error;
          m.destroy();
          throw new Error(`reading ${topic}: ${err?.message}`);
        }
        records++;
        bytes += m.keyLength + m.valueLength;
        const took = each(m);
        if (!(typeof took === "boolean" ? took : await took)) m.destroy();
      }
      progress(bytes);
    }
  } finally {
    consumer.close();
  }
  return { records, bytes };
}

/** Sum of the partitions' end offsets of `topic` (-1 while it does not exist). */
export async function endOffsets(cluster: Cluster, topic: string, partitions: number): Promise<number> {
  const admin = new Admin(cluster.config, cluster.options);
  try {
    const marks = await admin.watermarks(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
    return marks.reduce((n, m) => n + m.high, 0);
  } catch {
    return -1;
  } finally {
    admin.close();
  }
}

/**
 * End-to-end latency while the lane runs: `rate` records a second for `seconds` written to the
 * source, each timed from its CreateTime to the moment a consumer on the target reads it.
 */
export async function latency(source: Cluster, target: Cluster, topic: string, partitions: number, rate: number, seconds: number, progress: Progress): Promise<Latency> {
  const consumer = new Consumer({ ...target.config, "enable.auto.commit": false, "fetch.wait.max.ms": 10, "fetch.min.bytes": 1 }, target.options);
  const producer = new Producer({ ...source.config, "linger.ms": 0 }, source.options);
  const samples: number[] = [];
  try {
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: Offset.END })));
    await Bun.sleep(1_000); // the consumer has its position before the first record is written
    const total = Math.round(rate * seconds);
    const start = performance.now();
    let sent = 0;
    while (samples.length < total && performance.now() - start < (seconds + 30) * 1000) {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
      for (; sent < due; sent++) producer.produce({ topic, partition: sent % partitions, value: `latency ${sent}` });
      for (const m of await consumer.consume(1000, 5)) {
        if (!m.errorCode && !m.isPartitionEof) samples.push(Date.now() - m.timestamp().timestamp);
        m.destroy();
      }
      progress("latency", samples.length, total);
    }
    if (samples.length < total) throw new Error(`latency: ${total - samples.length} of ${total} records written to the source did not reach the target within ${seconds + 30} s`);
  } finally {
    await producer.close();
    consumer.close();
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  return { records: samples.length, p50: at(0.5), p99: at(0.99), max: samples[samples.length - 1]! };
}
