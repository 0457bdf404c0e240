/**
 * One worker against two on the same data (link.spread, docs/workers.md): a source topic of 12
 * partitions holding --gb GB of 1 KiB records, copied by `klink run` with link.standby and
 * link.spread, once by one klink and once by two. The second klink is lent half of the partitions
 * only after it joined and waited 11 s, so the whole copy is not the measure: the window is. Once
 * the second klink copies every partition it was lent (or, with one klink, at the same time after
 * the start), the benchmark measures for --window seconds: records copied per second (the target's
 * end offsets), and each klink's CPU seconds over the GB its partitions took in the window.
 * It starts its own clusters (bench/replicate/clusters.ts) in .klink-bench, stops them at the end,
 * and writes bench/results/workers-<date>.md.
 * Usage: npx bun bench/workers.ts [--gb 12] [--window 10] [--keep-clusters]
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

process.env.KLINK_TEST_DIR = resolve(process.env.KLINK_BENCH_DIR ?? resolve(import.meta.dir, "../.klink-bench"));

const { startClusters, stopClusters, withAdmin, createTopics, deleteTopics } = await import("./replicate/clusters.ts");
const { loadRecords, KEY_BYTES } = await import("./replicate/dataset.ts");
const { writeMigration } = await import("../test/link/klink-process.ts");
const { klinkSnapshot } = await import("./test-clusters.ts");
/** A copy of dist/klink taken at the start: a build meanwhile does not change what is measured. */
const snapshot = klinkSnapshot(mkdtempSync(join(tmpdir(), "klink-workers-bench-")));
type KafkaCluster = import("../test/harness/cluster.ts").KafkaCluster;

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const GB = Number(arg("gb", "12"));
const WINDOW_S = Number(arg("window", "10"));
const KEEP = process.argv.includes("--keep-clusters");
const PARTITIONS = 12;
const VALUE_BYTES = 1016; // + the 8-byte key: 1 KiB records
const RECORD_BYTES = VALUE_BYTES + KEY_BYTES;
const TOPIC = "workers-bench";

const log = (s: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${s}`);

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function targetEnds(target: KafkaCluster): Promise<number[]> {
  try {
    return await withAdmin(target, async (a) => (await a.watermarks(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: TOPIC, partition })))).sort((x, y) => x.partition - y.partition).map((w) => w.high));
  } catch {
    return new Array(PARTITIONS).fill(0); // the target topic is not created yet
  }
}

interface Worker {
  pid: number;
  log: () => string;
  stop: () => Promise<void>;
}

function startWorker(file: string): Worker {
  const proc = Bun.spawn([...snapshot.argv, "run", file], { stdout: "ignore", stderr: "pipe" });
  let text = "";
  void (async () => {
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) text += new TextDecoder().decode(chunk);
  })();
  return { pid: proc.pid, log: () => text, stop: async () => void (proc.kill("SIGTERM"), await proc.exited) };
}

/** Partitions a worker copies as lent ones (its "copying from offset" lines). */
const lentTo = (w: Worker) => [...w.log().matchAll(/\[(\d+)\]: copying from offset \d+ \(lent/g)].map((m) => Number(m[1]));

interface Result {
  workers: number;
  recordsPerSecond: number;
  perWorker: Array<{ partitions: number; gb: number; cpu: number; cpuPerGb: number }>;
  windowStartedAfter: number;
}

async function runCase(workers: number, source: KafkaCluster, target: KafkaCluster, startAfter: number | null): Promise<Result> {
  await deleteTopics(target, (name) => name === TOPIC);
  const file = writeMigration({ topics: [TOPIC], linkName: `workers-bench-${workers}-${Date.now()}`, linkExtra: "  standby: true\n  spread: true\n", extra: "storage:\n  plugin: kafka\n", from: source, to: target });
  const startedAt = Date.now();
  const first = startWorker(file);
  for (; !first.log().includes("mirroring "); await Bun.sleep(100)) if (Date.now() - startedAt > 120_000) throw new Error(`the first klink did not start:\n${first.log()}`);
  const all = [first];
  if (workers === 2) {
    const second = startWorker(writeMigration({ topics: [TOPIC], linkName: /name: (\S+)/.exec(readFileSync(file, "utf8"))![1]!, linkExtra: "  standby: true\n  spread: true\n", extra: "storage:\n  plugin: kafka\n", from: source, to: target }));
    all.push(second);
    for (; lentTo(second).length < PARTITIONS / 2; await Bun.sleep(100)) if (Date.now() - startedAt > 180_000) throw new Error(`the second klink was not lent its partitions:\n${second.log()}`);
  } else {
    while (Date.now() - startedAt < (startAfter ?? 0)) await Bun.sleep(100);
  }
  const windowStartedAfter = Date.now() - startedAt;
  const ends0 = await targetEnds(target);
  const cpu0 = all.map((w) => cpuSeconds(w.pid));
  const t0 = performance.now();
  await Bun.sleep(WINDOW_S * 1000);
  const ends1 = await targetEnds(target);
  const cpu1 = all.map((w) => cpuSeconds(w.pid));
  const seconds = (performance.now() - t0) / 1000;
  const total = ends1.reduce((n, e, i) => n + e - ends0[i]!, 0);
  if (ends1.some((e, i) => e === ends0[i] && e < ((GB * 1e9) / RECORD_BYTES) / PARTITIONS - 1)) log("  note: a partition copied nothing in the window");
  const lent = workers === 2 ? new Set(lentTo(all[1]!)) : new Set<number>();
  const perWorker = all.map((w, i) => {
    const mine = Array.from({ length: PARTITIONS }, (_, p) => p).filter((p) => (i === 0 ? !lent.has(p) : lent.has(p)));
    const gb = (mine.reduce((n, p) => n + ends1[p]! - ends0[p]!, 0) * RECORD_BYTES) / 1e9;
    const cpu = cpu1[i]! - cpu0[i]!;
    return { partitions: mine.length, gb, cpu, cpuPerGb: cpu / gb };
  });
  for (const w of all) await w.stop();
  for (const [i, w] of all.entries()) writeFileSync(`${process.env.KLINK_TEST_DIR}/workers-${workers}-${i}.log`, w.log()); // for a look at what each klink did
  return { workers, recordsPerSecond: total / seconds, perWorker, windowStartedAfter };
}

const { source, target } = await startClusters(log);
try {
  const count = Math.round((GB * 1e9) / RECORD_BYTES);
  log(`loading ${GB} GB (${count.toLocaleString("en-US")} records of ${RECORD_BYTES} B) into ${TOPIC} (${PARTITIONS} partitions)`);
  await deleteTopics(source, (name) => name === TOPIC);
  await createTopics(source, [{ name: TOPIC, partitions: PARTITIONS, replicationFactor: 1 }]);
  await loadRecords(source, TOPIC, { count, partitions: PARTITIONS, valueBytes: VALUE_BYTES, compression: "none" });
  log("loaded");
  const two = await runCase(2, source, target, null);
  log(`2 workers: ${Math.round(two.recordsPerSecond).toLocaleString("en-US")} records/s, window from ${(two.windowStartedAfter / 1000).toFixed(1)} s`);
  const one = await runCase(1, source, target, two.windowStartedAfter);
  log(`1 worker: ${Math.round(one.recordsPerSecond).toLocaleString("en-US")} records/s`);
  const row = (r: Result) => r.perWorker.map((w, i) =>
    `| ${r.workers} | ${i === 0 ? "runner" : "lent half"} | ${w.partitions} | ${i === 0 ? Math.round(r.recordsPerSecond).toLocaleString("en-US") : ""} | ${i === 0 ? ((r.recordsPerSecond * RECORD_BYTES) / 1e6).toFixed(1) : ""} | ${w.gb.toFixed(2)} | ${w.cpu.toFixed(1)} | ${w.cpuPerGb.toFixed(2)} |`).join("\n");
  const date = new Date().toISOString().slice(0, 10);
  const md = `# One klink worker against two on the same data (${date})

Produced by \`npx bun bench/workers.ts --gb ${GB} --window ${WINDOW_S}\`. Build: ${snapshot.build}. Source Kafka ${source.version}, target Kafka ${target.version}, one broker each, on this 2-core machine (the brokers and the workers share the 2 cores).
A source topic of ${PARTITIONS} partitions, ${GB} GB of ${RECORD_BYTES}-byte records (uncompressed), copied by \`klink run\` with link.standby and link.spread (exact offsets, storage: kafka).
Two workers: the second is lent half of the partitions after it joined and waited 11 s; the window of ${WINDOW_S} s starts once it copies all ${PARTITIONS / 2} (${(two.windowStartedAfter / 1000).toFixed(1)} s after the first started). One worker: the same window, measured from the same time after its start.
Records/s: the target's end offsets over the window. Per worker: GB its partitions took in the window, its CPU seconds (user + system, all threads) in the window, and their ratio.

| workers | worker | partitions | records/s | MB/s | GB in window | CPU s | CPU s/GB |
| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |
${row(one)}
${row(two)}

Two workers against one: ${(two.recordsPerSecond / one.recordsPerSecond).toFixed(2)}× the records per second.
`;
  mkdirSync(resolve(import.meta.dir, "results"), { recursive: true });
  const out = resolve(import.meta.dir, `results/workers-${date}.md`);
  writeFileSync(out, md);
  console.log(md);
  log(`wrote ${out}`);
} finally {
  if (!KEEP) await stopClusters();
}
