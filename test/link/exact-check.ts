/**
 * The oracle of exact-mode tests: reads both clusters with a plain consumer (not klink's state,
 * not `klink verify`) and lists every difference: log start and end offsets per partition, and
 * every read_committed record that is not the same (key, value, headers, CreateTime) at the same
 * offset on both clusters.
 */
import { Admin } from "../../src/rdkafka/index.ts";
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

/** Differences between the clusters (empty: the target is an exact copy); at most `limit` record lines. */
export async function exactDifferences(source: KafkaCluster, target: KafkaCluster, topic: string, partitions: number, limit = 20): Promise<string[]> {
  const out: string[] = [];
  const [sm, tm] = await Promise.all([marks(source, topic, partitions), marks(target, topic, partitions)]);
  for (let p = 0; p < partitions; p++) {
    const s = sm.find((m) => m.partition === p)!;
    const t = tm.find((m) => m.partition === p)!;
    if (s.low !== t.low) out.push(`${topic}[${p}]: log start offset ${s.low} on the source, ${t.low} on the target`);
    if (s.high !== t.high) out.push(`${topic}[${p}]: log end offset ${s.high} on the source, ${t.high} on the target`);
  }
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
