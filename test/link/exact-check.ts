/**
 * The oracle of exact-mode tests: reads both clusters with a plain consumer (not klink's state,
 * not `klink verify`) and lists every difference: log start and end offsets per partition, and
 * every read_committed record that is not the same (key, value, headers, CreateTime) at the same
 * offset on both clusters.
 */
import { Admin, Consumer, Offset } from "../../src/rdkafka/index.ts";
import { plain } from "../helpers.ts";
import type { KafkaCluster } from "../harness/cluster.ts";
import { readTopic, type ReadRecord } from "./dual-write-workload.ts";

function describe(r: ReadRecord | undefined): string {
  if (!r) return "nothing";
  const headers = r.headers.map(([n, v]) => `${n}=${v?.toString() ?? "null"}`).join(",");
  return `${r.key?.toString() ?? "null"}=${r.value?.toString() ?? "null"} [${headers}] @${r.timestamp}`;
}

async function marks(cluster: KafkaCluster, topic: string, partitions: number) {
  const admin = new Admin(plain(cluster));
  try {
    return await admin.watermarks(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
  } finally {
    admin.close();
  }
}

/** Partitions whose log start or end offsets differ between the clusters. */
async function boundDifferences(source: KafkaCluster, target: KafkaCluster, topic: string, partitions: number): Promise<string[]> {
  const out: string[] = [];
  const [sm, tm] = await Promise.all([marks(source, topic, partitions), marks(target, topic, partitions)]);
  for (let p = 0; p < partitions; p++) {
    const s = sm.find((m) => m.partition === p)!;
    const t = tm.find((m) => m.partition === p)!;
    if (s.low !== t.low) out.push(`${topic}[${p}]: log start offset ${s.low} on the source, ${t.low} on the target`);
    if (s.high !== t.high) out.push(`${topic}[${p}]: log end offset ${s.high} on the source, ${t.high} on the target`);
  }
  return out;
}

/** Differences between the clusters (empty: the target is an exact copy); at most `limit` record lines. */
export async function exactDifferences(source: KafkaCluster, target: KafkaCluster, topic: string, partitions: number, limit = 20): Promise<string[]> {
  const out = await boundDifferences(source, target, topic, partitions);
  const [sr, tr] = await Promise.all([readTopic(source, topic), readTopic(target, topic)]);
  const key = (r: ReadRecord) => `${r.partition}@${r.offset}`;
  const onTarget = new Map(tr.map((r) => [key(r), r]));
  const onSource = new Map(sr.map((r) => [key(r), r]));
  let records = 0;
  for (const k of new Set([...onSource.keys(), ...onTarget.keys()])) {
    const a = describe(onSource.get(k));
    const b = describe(onTarget.get(k));
    if (a === b) continue;
    if (records++ < limit) out.push(`${topic}[${k.replace("@", "] offset ")}: source ${a}, target ${b}`);
  }
  if (records > limit) out.push(`... ${records - limit} more records differ`);
  if (sr.length === 0) out.push(`${topic}: the source holds no records (the test wrote nothing?)`);
  return out;
}

/**
 * The same check for topics too large to hold in memory: both clusters are read record by record
 * (read_committed) and compared by a hash of key, value, headers and timestamp per offset.
 */
export async function exactDigestDifferences(source: KafkaCluster, target: KafkaCluster, topic: string, partitions: number, limit = 20): Promise<string[]> {
  const out = await boundDifferences(source, target, topic, partitions);
  const onSource = new Map<string, bigint>();
  await eachRecord(source, topic, partitions, (key, hash) => onSource.set(key, hash));
  let records = 0;
  const note = (what: string) => (records++ < limit ? out.push(what) : undefined);
  await eachRecord(target, topic, partitions, (key, hash) => {
    const expected = onSource.get(key);
    if (expected === undefined) note(`${topic} ${key}: on the target only`);
    else if (expected !== hash) note(`${topic} ${key}: differs`);
    onSource.delete(key);
  });
  for (const key of onSource.keys()) note(`${topic} ${key}: on the source only`);
  if (records > limit) out.push(`... ${records - limit} more records differ`);
  return out;
}

async function eachRecord(cluster: KafkaCluster, topic: string, partitions: number, fn: (key: string, hash: bigint) => void): Promise<void> {
  const ends = await marks(cluster, topic, partitions);
  const consumer = new Consumer(plain(cluster, { "isolation.level": "read_committed", "enable.partition.eof": true }));
  try {
    const open = new Map(ends.filter((e) => e.high > e.low).map((e) => [e.partition, e.high]));
    consumer.assign([...open.keys()].map((partition) => ({ topic, partition, offset: Offset.BEGINNING })));
    while (open.size) {
      for (const m of await consumer.consume(5000, 500)) {
        try {
          if (m.isPartitionEof) {
            if (m.offset >= (open.get(m.partition) ?? Infinity)) open.delete(m.partition);
            continue;
          }
          if (m.errorCode) throw m.error;
          let h = Bun.hash.wyhash(`${m.timestamp().timestamp}/${m.key()?.toString("base64") ?? "-"}`);
          const value = m.value();
          h = Bun.hash.wyhash(value ?? "\u0000null", h);
          for (const [name, v] of m.headers()) h = Bun.hash.wyhash(`${name}=${v?.toString("base64") ?? "-"}`, h);
          fn(`[${m.partition}] offset ${m.offset}`, h);
          if (m.offset + 1 >= (open.get(m.partition) ?? Infinity)) open.delete(m.partition);
        } finally {
          m.destroy();
        }
      }
    }
  } finally {
    consumer.close();
  }
}
