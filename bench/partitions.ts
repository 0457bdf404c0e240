/**
 * How klink's cost grows with the number of partitions of a link: 100, 1,000, 10,000 (topics of
 * --per-topic partitions each), a few records in every partition and no traffic after that. Per size
 * one `klink run` on fresh topics: time to its "mirroring" line (provisioning, alignment, resume
 * done) and until the target's end offsets equal the source's in every partition, RSS then and
 * after --idle seconds, the CPU it spends while idle, and how long SIGTERM takes. Then the same
 * klink is stopped and started again on the same state (resume), timed the same way.
 * The benchmark starts its own source and target clusters (bench/replicate/clusters.ts) in
 * .klink-bench (or $KLINK_BENCH_DIR), stops them at the end, and writes
 * bench/results/partitions-<date>.md.
 * Usage: npx bun bench/partitions.ts [--sizes 100,1000,10000] [--per-topic 10] [--records 10] [--idle 30] [--keep-clusters]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

process.env.KLINK_TEST_DIR = resolve(process.env.KLINK_BENCH_DIR ?? resolve(import.meta.dir, "../.klink-bench"));

const { Producer } = await import("../src/rdkafka/index.ts");
const { startClusters, stopClusters, withAdmin } = await import("./replicate/clusters.ts");
const { klinkSnapshot } = await import("./test-clusters.ts");
const { freePort } = await import("../test/link/klink-process.ts");
type KafkaCluster = import("../test/harness/cluster.ts").KafkaCluster;

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const SIZES = arg("sizes", "100,1000,10000").split(",").map(Number);
const PER_TOPIC = Number(arg("per-topic", "10"));
const RECORDS = Number(arg("records", "10"));
const IDLE_S = Number(arg("idle", "30"));
const KEEP = process.argv.includes("--keep-clusters");
const MiB = 2 ** 20;

const log = (s: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${s}`);

interface ProcFigures {
  cpu: number;
  rss: number;
  hwm: number;
}

/** CPU seconds of the process's JS thread (tid = pid) and of librdkafka's threads (rdk:*). */
function threadCpu(pid: number): { js: number; rdkafka: number } {
  const fs = require("node:fs");
  const out = { js: 0, rdkafka: 0 };
  for (const tid of fs.readdirSync(`/proc/${pid}/task`) as string[]) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8") as string;
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cpu = (Number(f[11]) + Number(f[12])) / 100;
      if (Number(tid) === pid) out.js += cpu;
      else if (comm.startsWith("rdk:")) out.rdkafka += cpu;
    } catch {
      // the thread ended
    }
  }
  return out;
}

function sample(pid: number): ProcFigures | null {
  try {
    const stat = require("node:fs").readFileSync(`/proc/${pid}/stat`, "utf8") as string;
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const status = require("node:fs").readFileSync(`/proc/${pid}/status`, "utf8") as string;
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
    return { cpu: (Number(f[11]) + Number(f[12])) / 100, rss: kb("VmRSS"), hwm: kb("VmHWM") };
  } catch {
    return null;
  }
}

/** Topics of PER_TOPIC partitions, RECORDS keyed records in each partition. */
async function load(source: KafkaCluster, prefix: string, partitions: number): Promise<string[]> {
  const topics = Array.from({ length: Math.ceil(partitions / PER_TOPIC) }, (_, i) => `${prefix}-${String(i).padStart(5, "0")}`);
  await withAdmin(source, async (a) => {
    for (let i = 0; i < topics.length; i += 200) await a.createTopics(topics.slice(i, i + 200).map((name) => ({ name, partitions: PER_TOPIC })));
  });
  const producer = new Producer({ "bootstrap.servers": source.bootstrap, "linger.ms": 20 });
  for (const topic of topics) {
    for (let p = 0; p < PER_TOPIC; p++) {
      for (let r = 0; r < RECORDS; r++) {
        for (;;) {
          try {
            producer.produce({ topic, partition: p, key: `k${r}`, value: `value ${r} of ${topic}[${p}]` });
            break;
          } catch {
            producer.poll();
            await Bun.sleep(1);
          }
        }
      }
    }
  }
  await producer.flush(1_800_000); // 10,000 partitions take minutes on one broker
  await producer.close();
  // klink selects topics by what the source lists: wait until it lists all of them
  await withAdmin(source, async (a) => {
    for (let listed = 0; listed < topics.length; await Bun.sleep(1000)) {
      listed = a.listTopics(60_000).filter((t) => t.name.startsWith(prefix) && t.partitions === PER_TOPIC).length;
      if (listed < topics.length) log(`  the source lists ${listed} of ${topics.length} topics`);
    }
  });
  return topics;
}

/** Partitions whose target end offset is not the source's yet. */
async function behind(source: KafkaCluster, target: KafkaCluster, topics: string[]): Promise<number> {
  const tps = topics.flatMap((topic) => Array.from({ length: PER_TOPIC }, (_, partition) => ({ topic, partition })));
  const ends = async (c: KafkaCluster) => {
    const m = new Map<string, number>();
    await withAdmin(c, async (a) => {
      for (let i = 0; i < tps.length; i += 2000) for (const w of await a.watermarks(tps.slice(i, i + 2000))) m.set(`${w.topic}/${w.partition}`, w.high);
    });
    return m;
  };
  const [s, t] = await Promise.all([ends(source), ends(target).catch(() => new Map<string, number>())]);
  let n = 0;
  for (const [k, end] of s) if (t.get(k) !== end) n++;
  return n;
}

interface Run {
  toMirroring: number;
  toCopied: number;
  cpuToCopied: number;
  rssCopied: number;
  rssIdle: number;
  hwm: number;
  idleCpuPercent: number;
  /** Of the idle CPU: the JS thread's and librdkafka's threads' (% of one core). */
  idleJsPercent: number;
  idleRdkafkaPercent: number;
  stopSeconds: number;
}

/** One `klink run FILE` until every partition is copied, then idle, then SIGTERM. */
async function runOnce(argv: string[], file: string, source: KafkaCluster, target: KafkaCluster, topics: string[]): Promise<Run> {
  const t0 = performance.now();
  const proc = Bun.spawn([...argv, "run", file], { stdout: "pipe", stderr: "pipe" });
  let out = "";
  const drain = async (s: ReadableStream<Uint8Array>) => {
    const d = new TextDecoder();
    for await (const c of s) out += d.decode(c, { stream: true });
  };
  const drained = Promise.all([drain(proc.stdout), drain(proc.stderr)]);
  const exited = () => proc.exitCode !== null || proc.signalCode !== null;
  try {
    let toMirroring = 0;
    while (!toMirroring) {
      if (exited()) throw new Error(`klink exited before mirroring:\n${out.slice(-3000)}`);
      if (/mirroring \d+ topic/.test(out)) toMirroring = (performance.now() - t0) / 1000;
      else await Bun.sleep(100);
    }
    log(`  mirroring after ${toMirroring.toFixed(1)} s`);
    for (;;) {
      if (exited()) throw new Error(`klink exited before copying everything:\n${out.slice(-3000)}`);
      const left = await behind(source, target, topics);
      if (left === 0) break;
      if (performance.now() - t0 > 1_800_000) throw new Error(`${left} partitions still behind after 30 min:\n${out.slice(-3000)}`);
      await Bun.sleep(1000);
    }
    const toCopied = (performance.now() - t0) / 1000;
    const copied = sample(proc.pid)!;
    const threadsCopied = threadCpu(proc.pid);
    log(`  every partition copied after ${toCopied.toFixed(1)} s; RSS ${(copied.rss / MiB).toFixed(0)} MiB; idle ${IDLE_S} s`);
    await Bun.sleep(IDLE_S * 1000);
    const idle = sample(proc.pid)!;
    const threadsIdle = threadCpu(proc.pid);
    const s0 = performance.now();
    proc.kill("SIGTERM");
    const hard = setTimeout(() => proc.kill("SIGKILL"), 120_000);
    await proc.exited;
    clearTimeout(hard);
    const stopSeconds = (performance.now() - s0) / 1000;
    return {
      toMirroring, toCopied, cpuToCopied: copied.cpu, rssCopied: copied.rss, rssIdle: idle.rss, hwm: idle.hwm,
      idleCpuPercent: ((idle.cpu - copied.cpu) / IDLE_S) * 100, stopSeconds,
      idleJsPercent: ((threadsIdle.js - threadsCopied.js) / IDLE_S) * 100, idleRdkafkaPercent: ((threadsIdle.rdkafka - threadsCopied.rdkafka) / IDLE_S) * 100,
    };
  } finally {
    if (!exited()) proc.kill("SIGKILL");
    await drained;
    writeFileSync(`${file}.log`, out);
  }
}

const rows: Array<{ partitions: number; first: Run; resumed: Run }> = [];
let { source, target } = await startClusters(log);
try {
  const dir = mkdtempSync(join(tmpdir(), "klink-partitions-"));
  const { argv, build } = klinkSnapshot(dir);
  for (const size of SIZES) {
    const prefix = `parts${size}`;
    // Fresh clusters for each size: a broker keeps a deleted partition's files open for a minute,
    // and 10,000 partitions deleted and 10,000 created overran its 20,000 open files here.
    await stopClusters();
    ({ source, target } = await startClusters(log));
    log(`${size} partitions: loading ${Math.ceil(size / PER_TOPIC)} topics × ${PER_TOPIC} partitions × ${RECORDS} records`);
    const topics = await load(source, prefix, size);
    const file = join(dir, `migration-${size}.yaml`);
    writeFileSync(file, `clusters:
  source: { bootstrap: "${source.bootstrap}" }
  target: { bootstrap: "${target.bootstrap}" }
link:
  name: partitions-${size}
  topics: { regex: ['${prefix}-.*'] }
  offsets: exact
status: { listen: "127.0.0.1:${freePort()}" }
`);
    log(`  first start`);
    const first = await runOnce(argv, file, source, target, topics);
    log(`  restart on the same state`);
    const resumed = await runOnce(argv, file, source, target, topics);
    rows.push({ partitions: size, first, resumed });
    console.log(JSON.stringify(rows.at(-1)));
  }
  const cell = (r: Run) => [r.toMirroring.toFixed(1), r.toCopied.toFixed(1), r.cpuToCopied.toFixed(1), (r.rssCopied / MiB).toFixed(0), (r.rssIdle / MiB).toFixed(0), (r.hwm / MiB).toFixed(0), `${r.idleCpuPercent.toFixed(1)} (JS ${r.idleJsPercent.toFixed(1)}, librdkafka ${r.idleRdkafkaPercent.toFixed(1)})`, r.stopSeconds.toFixed(1)];
  const lines = [
    `# klink and the number of partitions (${new Date().toISOString().slice(0, 10)})`,
    "",
    `Build: ${build}. Source Kafka ${source.version}, target Kafka ${target.version}, one broker each, on this 2-core machine.`,
    `Topics of ${PER_TOPIC} partitions, ${RECORDS} records in each partition, no traffic after that; offsets: exact, storage: sqlite.`,
    `"to mirroring": from spawning klink to its "mirroring" line; "to copied": until every target end offset equals the source's;`,
    `CPU: klink's user + system seconds until then; RSS when copied and after ${IDLE_S} s idle; peak: VmHWM; idle CPU: % of one core in those ${IDLE_S} s; stop: SIGTERM to exit.`,
    "",
    "| partitions | start | to mirroring (s) | to copied (s) | CPU (s) | RSS copied (MiB) | RSS idle (MiB) | peak RSS (MiB) | idle CPU (%) | stop (s) |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.flatMap((r) => [
      `| ${r.partitions.toLocaleString("en")} | first | ${cell(r.first).join(" | ")} |`,
      `| ${r.partitions.toLocaleString("en")} | resumed | ${cell(r.resumed).join(" | ")} |`,
    ]),
  ];
  mkdirSync(resolve(import.meta.dir, "results"), { recursive: true });
  const out = resolve(import.meta.dir, `results/partitions-${new Date().toISOString().slice(0, 10)}.md`);
  writeFileSync(out, lines.join("\n") + "\n");
  console.log(lines.join("\n"));
  log(`written to ${out}; klink logs in ${dir}`);
} finally {
  if (!KEEP) await stopClusters();
}
