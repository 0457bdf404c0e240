/**
 * The latency the Router adds (issue 6): a producer writes to the TARGET topic of a running link
 * (the topic goes to dual-write on the first such record), and a consumer on the SOURCE receives
 * the records the Router appended there. Per record: arrival time at the source consumer −
 * CreateTime set by the producer on the target (the Router keeps CreateTime; both clocks are this
 * process's). Next to it, in the same run and with the same producer and consumer settings, the
 * baseline: the same producer → consumer path on the target alone (a target-only topic, no klink
 * in between). Both are measured at the same fixed rate after a warm-up.
 *
 * Usage: npx bun bench/router-latency.ts [--rate 500] [--seconds 5,20] [--partitions 6] [--value-bytes 100]
 * Uses the test clusters (test/harness; KLINK_TEST_DIR), starting them if they are not running and
 * stopping them again at the end. Runs a copy of dist/klink taken at start;
 * KLINK_BENCH_KLINK_CMD='["bun","src/cli.ts"]' runs another build. Writes
 * bench/results/router-latency-<date>.md when routed records arrived.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Consumer, ErrorCode, KafkaError, Offset, Producer } from "../src/rdkafka/index.ts";
import type { KafkaCluster } from "../test/harness/cluster.ts";
import { klinkSnapshot, testClusters } from "./test-clusters.ts";
import { plain, uniqueName, withAdmin } from "../test/helpers.ts";

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const RATE = Number(arg("rate", "500"));
const [WARMUP_S, MEASURE_S] = arg("seconds", "5,20").split(",").map(Number) as [number, number];
const PARTITIONS = Number(arg("partitions", "6"));
const VALUE_BYTES = Number(arg("value-bytes", "100"));
/** after the last record was produced, how long to wait for the rest to arrive */
const DRAIN_MS = 60_000;

// Same settings in both phases: only the path differs.
const PRODUCER = { acks: "all", "enable.idempotence": true, "linger.ms": 1 };
const CONSUMER = { "isolation.level": "read_committed" };

interface Phase {
  label: string;
  produced: number;
  achievedRate: number;
  /** records that arrived, of those produced */
  arrived: number;
  /** latencies (ms) of the records produced in the measured window */
  latencies: Float64Array;
  /** after the last record was produced, until all had arrived (null: some never did) */
  drainS: number | null;
}

const quantile = (sorted: Float64Array, q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

/**
 * Produces to `produceTo`/`topic` at RATE for WARMUP_S + MEASURE_S seconds while a consumer reads
 * `topic` on `readFrom` (from the beginning: the topic starts empty); key = 8-byte sequence number.
 */
async function measure(label: string, produceTo: KafkaCluster, readFrom: KafkaCluster, topic: string): Promise<Phase> {
  const producer = new Producer(plain(produceTo, PRODUCER));
  const consumer = new Consumer(plain(readFrom, CONSUMER));
  consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, offset: Offset.BEGINNING })));
  const createTime: number[] = [];
  const arrival: number[] = [];
  let arrived = 0;
  let reading = true;
  const reader = (async () => {
    while (reading) {
      const batch = consumer.consumeBatch(1000, 0);
      const now = Date.now();
      if (!batch.length) {
        await Bun.sleep(1);
        continue;
      }
      for (const m of batch) {
        if (!m.errorCode && m.keyLength === 8) {
          const seq = Number(m.key()!.readBigUInt64BE());
          if (arrival[seq] === undefined) {
            arrival[seq] = now;
            arrived++;
          }
        }
        m.destroy();
      }
    }
  })();
  const value = Buffer.alloc(VALUE_BYTES, "v");
  const send = (seq: number) => {
    const key = Buffer.alloc(8);
    key.writeBigUInt64BE(BigInt(seq));
    for (;;) {
      const now = Date.now();
      try {
        producer.produce({ topic, partition: seq % PARTITIONS, key, value, timestamp: now });
        createTime[seq] = now;
        return;
      } catch (err) {
        if (!(err instanceof KafkaError && err.code === ErrorCode.QUEUE_FULL)) throw err;
        producer.poll();
      }
    }
  };
  try {
    const start = performance.now();
    const measureFrom = Date.now() + WARMUP_S * 1000;
    let seq = 0;
    for (;;) {
      const elapsed = (performance.now() - start) / 1000;
      if (elapsed >= WARMUP_S + MEASURE_S) break;
      // at most 20 ms worth at once, so a stall does not turn into a burst
      const due = Math.min(Math.floor(elapsed * RATE), seq + Math.ceil(RATE / 50));
      for (; seq < due; seq++) send(seq);
      await Bun.sleep(1);
    }
    const producedS = (performance.now() - start) / 1000;
    await producer.flush(60_000);
    const doneAt = performance.now();
    while (arrived < seq && performance.now() - doneAt < DRAIN_MS) await Bun.sleep(10);
    const drainS = arrived >= seq ? (performance.now() - doneAt) / 1000 : null;
    if (arrived === 0) throw new Error(`${label}: none of the ${seq} records reached the consumer within ${DRAIN_MS / 1000} s after the last was produced`);
    const latencies: number[] = [];
    for (let i = 0; i < seq; i++) if (createTime[i]! >= measureFrom && arrival[i] !== undefined) latencies.push(arrival[i]! - createTime[i]!);
    const sorted = Float64Array.from(latencies).sort();
    console.error(`${label}: ${arrived} of ${seq} arrived; p50 ${quantile(sorted, 0.5)} ms, p99 ${quantile(sorted, 0.99)} ms, max ${sorted[sorted.length - 1]} ms`);
    return { label, produced: seq, achievedRate: seq / producedS, arrived, latencies: sorted, drainS };
  } finally {
    reading = false;
    await reader;
    await producer.close(10_000);
    consumer.close();
  }
}

async function endOffsets(c: KafkaCluster, topic: string): Promise<number> {
  return withAdmin(c, async (a) => (await a.watermarks(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })))).reduce((n, p) => n + p.high, 0));
}

const { source, target, started } = await testClusters();
const dir = mkdtempSync(join(tmpdir(), "klink-router-latency-"));
const { argv, build } = klinkSnapshot(dir);
const routedTopic = uniqueName("bench-routed");
const baselineTopic = uniqueName("bench-baseline");
let klink: ReturnType<typeof Bun.spawn> | null = null;
let klinkLog = "";
const stopKlink = async () => {
  if (!klink || klink.exitCode !== null || klink.signalCode !== null) return;
  klink.kill("SIGTERM");
  const hard = setTimeout(() => klink?.kill("SIGKILL"), 30_000);
  await klink.exited;
  clearTimeout(hard);
};
process.on("SIGINT", () => {
  klink?.kill("SIGKILL");
  process.exit(130);
});
const phases: Phase[] = [];
let loopCheck = "";
let failure: string | null = null;
try {
  await withAdmin(source, (a) => a.createTopics([{ name: routedTopic, partitions: PARTITIONS }]));
  await withAdmin(target, (a) => a.createTopics([{ name: baselineTopic, partitions: PARTITIONS }]));
  const file = join(dir, "migration.yaml");
  writeFileSync(file, `clusters:\n  source: { bootstrap: "${source.bootstrap}" }\n  target: { bootstrap: "${target.bootstrap}" }\nlink:\n  name: ${routedTopic}\n  topics: { names: [${routedTopic}] }\nstatus:\n  listen: 127.0.0.1:${20000 + Math.floor(Math.random() * 10000)}\n`);
  const proc = Bun.spawn([...argv, "run", file], { stdout: "pipe", stderr: "pipe" });
  klink = proc;
  for (const stream of [proc.stdout, proc.stderr]) {
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) klinkLog += decoder.decode(chunk, { stream: true });
    })();
  }
  // klink creates the target topic; the baseline waits for nothing
  const deadline = Date.now() + 90_000;
  while (!(await withAdmin(target, async (a) => a.listTopics(5_000).some((t) => t.name === routedTopic)))) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`klink did not create ${routedTopic} on the target\n${klinkLog.slice(-3000)}`);
    await Bun.sleep(250);
  }
  await Bun.sleep(2_000); // klink's Fetcher assigned and idle

  phases.push(await measure("baseline: producer → target → consumer on the target", target, target, baselineTopic));
  try {
    phases.push(await measure("routed: producer → target → Router → consumer on the source", target, source, routedTopic));
  } catch (err) {
    failure = `${(err as Error).message}: does this klink have a Router (issue 6)?`;
  }
  // the Fetcher must not copy the routed records back: the target holds what was produced there, once
  if (!failure) {
    const [s, t] = [await endOffsets(source, routedTopic), await endOffsets(target, routedTopic)];
    loopCheck = `after the routed phase: target end offsets sum ${t}, source ${s}, records produced to the target ${phases[1]!.produced}`;
  }
} finally {
  await stopKlink();
  writeFileSync(join(dir, "klink.log"), klinkLog);
  await withAdmin(source, (a) => a.deleteTopics([routedTopic])).catch(() => {});
  await withAdmin(target, (a) => a.deleteTopics([routedTopic, baselineTopic])).catch(() => {});
  if (started) Bun.spawnSync(["npx", "bun", "test/harness/cli.ts", "down"], { stdout: "inherit", stderr: "inherit" });
}

const fmtMs = (x: number) => (Number.isFinite(x) ? String(Math.round(x)) : "–");
const rows = phases.map((p) => `| ${p.label} | ${p.produced.toLocaleString("en-US")} | ${Math.round(p.achievedRate)} | ${p.arrived.toLocaleString("en-US")} | ${p.latencies.length.toLocaleString("en-US")} | ${fmtMs(quantile(p.latencies, 0.5))} | ${fmtMs(quantile(p.latencies, 0.99))} | ${fmtMs(p.latencies[p.latencies.length - 1] ?? NaN)} | ${p.drainS === null ? "not all arrived" : p.drainS.toFixed(1)} |`);
const [base, routed] = phases;
const added = base && routed ? `Added by routing: p50 +${fmtMs(quantile(routed.latencies, 0.5) - quantile(base.latencies, 0.5))} ms, p99 +${fmtMs(quantile(routed.latencies, 0.99) - quantile(base.latencies, 0.99))} ms.` : "";
const date = new Date().toISOString().slice(0, 10);
const table = [
  `# Router latency, ${date}`,
  "",
  `Source Kafka ${source.version}, target ${target.version}, one node each on loopback, 2 shared vCPUs; klink ${build}. ${PARTITIONS} partitions, ${VALUE_BYTES} B values, ${RATE} records/s for ${WARMUP_S} s warm-up + ${MEASURE_S} s measured; producer acks=all, idempotent, linger.ms=1; consumer read_committed, librdkafka defaults otherwise, both in this process. Latency = arrival at the consumer − CreateTime set at produce (ms), records produced in the measured window.`,
  "",
  "| path | produced | records/s | arrived | measured | p50 ms | p99 ms | max ms | drain s |",
  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ...rows,
  "",
  added,
  loopCheck,
  "",
].join("\n");
console.log(table);
console.error(`klink log: ${join(dir, "klink.log")}`);
if (failure) {
  console.error(`\nrouted phase failed: ${failure}\nnothing written to bench/results/`);
  process.exit(1);
}
mkdirSync("bench/results", { recursive: true });
writeFileSync(`bench/results/router-latency-${date}.md`, table);
console.error(`written to bench/results/router-latency-${date}.md`);
