/**
 * The benchmark's data: a fixed, seeded dataset, and the readers that check what arrived.
 *
 * Record `seq` (0, 1, 2, ...) goes to partition seq % partitions, keyed by seq as 8 bytes
 * big-endian; one producer writes them in order to an empty topic, so its source offset is
 * floor(seq / partitions). Values are text-like (words, numbers, punctuation, as JSON events
 * are), drawn from a pool made by a seeded generator, so every run loads the same bytes and lz4
 * has something to compress.
 */
import { read } from "bun:ffi";
import type { KafkaCluster } from "../../test/harness/cluster.ts";
import { Consumer, Producer, KafkaError, ErrorCode, Offset, type ConsumedMessage } from "../../src/rdkafka/index.ts";
import type { Compression } from "./options.ts";

export const KEY_BYTES = 8;
export const SEED = 20261126;

/** mulberry32: small, fast, and the same sequence everywhere. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ("order customer payment amount currency status created updated shipped pending item sku price quantity " +
  "region warehouse account event source device session user id type version true false null total discount").split(" ");

/** `count` distinct values of `bytes` bytes each. */
export function valuePool(bytes: number, seed = SEED, count = 1024): Buffer[] {
  const next = seeded(seed ^ bytes);
  const pool: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    let s = "{";
    while (s.length < bytes) {
      const w = WORDS[Math.floor(next() * WORDS.length)]!;
      s += next() < 0.4 ? `"${w}":${Math.floor(next() * 1e6)},` : `"${w}":"${WORDS[Math.floor(next() * WORDS.length)]}-${Math.floor(next() * 1e4)}",`;
    }
    pool.push(Buffer.from(s.slice(0, bytes - 1) + "}"));
  }
  return pool;
}

export function writeSeq(key: Buffer, seq: number): Buffer {
  key.writeUInt32BE(Math.floor(seq / 4294967296), 0);
  key.writeUInt32BE(seq >>> 0, 4);
  return key;
}

const bswap32 = (x: number) => (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;

/** The seq in a consumed record's key, read in place; -1 for a key that is not ours. */
export function seqOf(m: ConsumedMessage): number {
  const p = m.keyPointer;
  if (!p || m.keyLength !== KEY_BYTES) return -1;
  return bswap32(read.u32(p as never, 0)) * 4294967296 + bswap32(read.u32(p as never, 4));
}

export function producerConfig(c: KafkaCluster, compression: Compression) {
  return { "bootstrap.servers": c.bootstrap, "linger.ms": 5, "batch.size": 1_048_576, acks: "all", "compression.type": compression };
}

/** Produces, serving delivery reports whenever librdkafka's queue is full. */
export async function produceWithRetry(producer: Producer, record: Parameters<Producer["produce"]>[0]): Promise<void> {
  for (;;) {
    try {
      producer.produce(record);
      return;
    } catch (err) {
      if (!(err instanceof KafkaError) || err.code !== ErrorCode.QUEUE_FULL) throw err;
      producer.poll();
      await Bun.sleep(1);
    }
  }
}

/** Loads records seq = from .. from+count-1 (see the header); resolves once all are acknowledged. */
export async function loadRecords(c: KafkaCluster, topic: string, o: { from?: number; count: number; partitions: number; valueBytes: number; compression: Compression }): Promise<void> {
  let failed: Error | null = null;
  const producer = new Producer(producerConfig(c, o.compression), { onDelivery: (r) => r.error && (failed ??= r.error) });
  const pool = valuePool(o.valueBytes);
  const next = seeded(SEED);
  const key = Buffer.alloc(KEY_BYTES);
  const from = o.from ?? 0;
  try {
    for (let seq = from; seq < from + o.count; seq++) {
      await produceWithRetry(producer, { topic, partition: seq % o.partitions, key: writeSeq(key, seq), value: pool[Math.floor(next() * pool.length)]! });
      if ((seq & 4095) === 0) {
        producer.poll();
        if (failed) throw failed;
      }
    }
    await producer.flush(300_000);
    if (failed) throw failed;
  } finally {
    await producer.close();
  }
}

/**
 * Reads every partition of `topic` from its log start to its end as of now (read_committed, as a
 * consumer would), calling `onRecord` for each record. `m` is destroyed right after the call.
 */
export async function readTopic(
  c: KafkaCluster,
  topic: string,
  partitions: number,
  onRecord: (m: ConsumedMessage, partition: number, offset: number) => void,
  timeoutMs = 300_000,
): Promise<void> {
  const consumer = new Consumer({ "bootstrap.servers": c.bootstrap, "enable.partition.eof": true, "fetch.max.bytes": 52_428_800, "queued.max.messages.kbytes": 65536 });
  try {
    const open = new Set<number>();
    const ends: number[] = [];
    for (let p = 0; p < partitions; p++) {
      const { low, high } = consumer.queryWatermarks(topic, p);
      ends[p] = high;
      if (high > low) open.add(p);
    }
    consumer.assign([...open].map((partition) => ({ topic, partition, offset: Offset.BEGINNING })));
    const deadline = Date.now() + timeoutMs;
    while (open.size) {
      if (Date.now() > deadline) throw new Error(`${c.name}: reading ${topic} did not reach the end of partitions ${[...open].join(", ")} within ${timeoutMs / 1000} s`);
      const batch = await consumer.consume(5000, 100);
      for (const m of batch) {
        try {
          const p = m.partition;
          if (m.isPartitionEof) {
            if (m.offset >= ends[p]!) open.delete(p);
          } else if (m.errorCode) {
            throw m.error!;
          } else {
            onRecord(m, p, m.offset);
            if (m.offset + 1 >= ends[p]!) open.delete(p);
          }
        } finally {
          m.destroy();
        }
      }
    }
  } finally {
    consumer.close();
  }
}
