/**
 * The oracle's view of a topic on one cluster, from readers independent of klink: a plain
 * librdkafka consumer (read_committed, from the beginning to the end offsets) and Kafka's own
 * console consumer; log start and end offsets from Kafka's GetOffsetShell. Both readers' records
 * are rendered alike (text, or 0x-hex for bytes that are not printable), so they compare directly.
 */
import type { KafkaCluster } from "../harness/cluster.ts";
import { consoleConsumer, getOffsets } from "../harness/tools.ts";
import { readTopic } from "../link/dual-write-workload.ts";

export interface Rec {
  partition: number;
  offset: number;
  timestamp: number;
  key: string;
  value: string;
  /** `name:value,name:value`, or NO_HEADERS, as the console consumer prints them */
  headers: string;
}

const render = (b: Buffer | null) => (b === null ? "null" : /^[\x20-\x7e]*$/.test(b.toString("latin1")) ? b.toString("latin1") : `0x${b.toString("hex")}`);

export async function readWithLibrdkafka(c: KafkaCluster, topic: string): Promise<Rec[]> {
  const records = await readTopic(c, topic);
  return records.map((r) => ({
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: render(r.key),
    value: render(r.value),
    headers: r.headers.length ? r.headers.map(([n, v]) => `${n}:${render(v)}`).join(",") : "NO_HEADERS",
  }));
}

/**
 * Reads until `count` records arrived (what the librdkafka reader saw), or 20 s without a record;
 * a read that ends short is tried again with a longer wait (a loaded machine delayed the console
 * consumer's group join past its idle limit: it read 0 of 11,087 records that were there).
 */
export async function readWithConsoleConsumer(c: KafkaCluster, topic: string, count: number): Promise<Rec[]> {
  if (count === 0) return [];
  let best: Rec[] = [];
  for (const idleMs of [20_000, 60_000, 120_000]) {
    const r = await consoleConsumer(c, { topic, maxMessages: count, idleMs });
    if (r.records.length > best.length) best = r.records;
    if (best.length >= count) break;
  }
  return best;
}

export interface LogOffsets {
  start: number;
  end: number;
}

export async function logOffsets(c: KafkaCluster, topic: string): Promise<Map<number, LogOffsets>> {
  const [start, end] = await Promise.all([getOffsets(c, topic, "earliest"), getOffsets(c, topic, "latest")]);
  const out = new Map<number, LogOffsets>();
  for (const [p, s] of start) out.set(p, { start: s, end: end.get(p) ?? -1 });
  return out;
}

/** `key=k value=v ts=… headers=…`, values cut at 60 characters. */
export function showRec(r: Rec): string {
  const cut = (s: string) => (s.length > 60 ? `${s.slice(0, 60)}…` : s);
  return `key=${cut(r.key)} value=${cut(r.value)} CreateTime=${r.timestamp} headers=${cut(r.headers)}`;
}

/** Everything that must be byte-identical between the clusters. */
export const contentOf = (r: Rec) => `${r.key}\t${r.value}\t${r.headers}\t${r.timestamp}`;
