/**
 * The records `klink bench` writes to its scratch topic: generated (text that compresses about as
 * much as JSON does) or a sample read from one of the user's source topics (read only, never
 * written back there).
 */
import { randomBytes } from "node:crypto";
import { Admin, Consumer, Offset } from "../rdkafka/index.ts";
import type { Cluster } from "../link/cluster.ts";

export interface BenchRecord {
  key: Buffer | null;
  value: Buffer | null;
}

/** `count` distinct records of about `valueBytes` each, cycled by the writer. */
export function generated(valueBytes: number, count = 1024): BenchRecord[] {
  const words = ["order", "id", "amount", "currency", "EUR", "status", "created", "customer", "items", "true", "null"];
  return Array.from({ length: count }, (_, i) => {
    const parts: string[] = [];
    for (let n = 0; parts.join(" ").length < valueBytes; n++) parts.push(n % 3 ? words[(i * 7 + n) % words.length]! : randomBytes(6).toString("base64url"));
    return { key: Buffer.from(`key-${i}`), value: Buffer.from(parts.join(" ").slice(0, valueBytes)) };
  });
}

/** Up to `maxBytes` of records from the start of `topic` on the source (read_committed), or an error line. */
export async function sampled(source: Cluster, topic: string, maxBytes: number): Promise<BenchRecord[]> {
  const admin = new Admin(source.config, source.options);
  const partitions = await admin.describeTopics([topic]).then(([d]) => d!.partitions.length, (err: Error) => {
    throw new Error(`--sample ${topic}: cannot read the topic on the source: ${err.message}`);
  }).finally(() => admin.close());
  const consumer = new Consumer({ ...source.config, "enable.partition.eof": true, "isolation.level": "read_committed", "enable.auto.commit": false }, source.options);
  const out: BenchRecord[] = [];
  try {
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: Offset.BEGINNING })));
    let bytes = 0;
    let open = partitions;
    for (const deadline = Date.now() + 60_000; open > 0 && bytes < maxBytes && Date.now() < deadline; ) {
      for (const m of await consumer.consume(1000, 200)) {
        if (m.isPartitionEof) open--;
        else if (!m.errorCode && bytes < maxBytes) {
          const record = { key: m.key(), value: m.value() };
          bytes += (record.key?.length ?? 0) + (record.value?.length ?? 0);
          out.push(record);
        }
        m.destroy();
      }
    }
  } finally {
    consumer.close();
  }
  if (out.length === 0) throw new Error(`--sample ${topic}: the source topic holds no record to sample`);
  return out;
}
