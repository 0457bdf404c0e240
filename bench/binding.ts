/**
 * Throughput of klink's librdkafka binding next to Kafka's own ProducerPerformance and
 * ConsumerPerformance, against the same real broker (the harness's target cluster, Kafka 4.3.1),
 * in the same run. Usage: npm run bench:binding [-- --records 1000000]
 * Starts the test clusters if they are not running (and stops them again at the end).
 */
import { Producer, Consumer, Offset } from "../src/rdkafka/index.ts";
import type { KafkaCluster } from "../test/harness/cluster.ts";
import { testClusters } from "./test-clusters.ts";
import { producerPerformance, consumerPerformance } from "../test/harness/tools.ts";
import { plain, uniqueName, withAdmin } from "../test/helpers.ts";
import { writeFileSync, mkdirSync } from "node:fs";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const RECORDS_100B = arg("records", 1_000_000);
const PARTITIONS = 4;
const PRODUCER = { "linger.ms": 5, "batch.size": 1_048_576, acks: "all" };

async function bindingProduce(c: KafkaCluster, topic: string, n: number, size: number): Promise<number> {
  const producer = new Producer(plain(c, PRODUCER));
  const value = Buffer.alloc(size, 120);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    for (;;) {
      try {
        producer.produce({ topic, partition: i % PARTITIONS, value });
        break;
      } catch (e: any) {
        if (e.code !== -184) throw e;
        producer.poll();
        await Bun.sleep(0);
      }
    }
  }
  await producer.flush(120_000);
  const seconds = (performance.now() - t0) / 1000;
  await producer.close();
  return seconds;
}

async function bindingConsume(c: KafkaCluster, topic: string, n: number): Promise<number> {
  const consumer = new Consumer(plain(c, { "fetch.max.bytes": 52_428_800, "isolation.level": "read_uncommitted" }));
  consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, offset: Offset.BEGINNING })));
  const t0 = performance.now();
  let seen = 0;
  while (seen < n) {
    const batch = consumer.consumeBatch(10_000, 100);
    for (const m of batch) {
      if (!m.errorCode) {
        seen++;
        m.valueLength; // touch the record as a real reader would
      }
      m.destroy();
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  consumer.close();
  return seconds;
}

const { target, started } = await testClusters();
const rows: string[] = [];
const row = (...cells: Array<string | number>) => rows.push(`| ${cells.join(" | ")} |`);
row("record size", "records", "tool", "produce records/s", "produce MB/s", "consume records/s", "consume MB/s");
row("---", "---:", "---", "---:", "---:", "---:", "---:");
const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
try {
  for (const size of [100, 1024]) {
    const n = size === 100 ? RECORDS_100B : Math.round(RECORDS_100B / 4);
    const mb = (n * size) / 1e6;
    // Java tools first, then the binding, each on its own fresh topic.
    const javaTopic = uniqueName(`bench-java-${size}`);
    const bunTopic = uniqueName(`bench-binding-${size}`);
    await withAdmin(target, (a) => a.createTopics([{ name: javaTopic, partitions: PARTITIONS }, { name: bunTopic, partitions: PARTITIONS }]));
    const jp = await producerPerformance(target, {
      topic: javaTopic, numRecords: n, recordSize: size, timeoutMs: 600_000,
      props: { "linger.ms": "5", "batch.size": "1048576", acks: "all" },
    });
    const jc = await consumerPerformance(target, { topic: javaTopic, numRecords: n, timeoutMs: 30_000 });
    const bp = await bindingProduce(target, bunTopic, n, size);
    const bc = await bindingConsume(target, bunTopic, n);
    row(`${size} B`, fmt(n), "Kafka ProducerPerformance / ConsumerPerformance", fmt(jp.recordsPerSec), (jp.recordsPerSec * size / 1e6).toFixed(1), fmt(jc.recordsPerSec), (jc.recordsPerSec * size / 1e6).toFixed(1));
    row(`${size} B`, fmt(n), "klink binding (bun:ffi → librdkafka)", fmt(n / bp), (mb / bp).toFixed(1), fmt(n / bc), (mb / bc).toFixed(1));
    console.error(rows.slice(-2).join("\n"));
  }
} finally {
  if (started) Bun.spawnSync(["npx", "bun", "test/harness/cli.ts", "down"], { stdout: "inherit", stderr: "inherit" });
}
const header = `# Binding throughput, ${new Date().toISOString().slice(0, 10)}\n\nOne Kafka ${target.version} broker on loopback, ${PARTITIONS} partitions, acks=all, idempotent, linger.ms=5, batch.size=1 MiB, no compression; 2 shared vCPUs. MB = 10^6 bytes of values.\n\n`;
const table = header + rows.join("\n") + "\n";
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/binding-${new Date().toISOString().slice(0, 10)}.md`;
writeFileSync(file, table);
console.log(table + `\nwritten to ${file}`);
