/**
 * klink's memory on a highly compressible backlog: GB of values of one repeated byte (zstd: about
 * 270× smaller on the source's disk), written to the source first, then `klink run
 * --until-caught-up` once per variant of `limits`, back to back on the same backlog. With
 * `memory: 1TiB` klink fetches as it did before limits.memory was enforced (16 MiB responses, and
 * RSS never reaches the pause mark). The klink process's RSS (VmRSS) is sampled every 200 ms;
 * VmHWM gives the true peak. Every run copies into a fresh target topic, and its end offsets are
 * checked against the source's.
 * Usage: npx bun bench/memory.ts [--gb 2] [--value 640] [--compression zstd] [--partitions 8]
 *        [--variants 'NAME=LIMITS;...'] [--reps 2] [--keep] [--topic NAME]
 * Each variant runs --reps times, the order rotating, each run a column of the table.
 * --keep leaves the loaded source topic in place; --topic NAME runs on such a topic (same --gb,
 * --value and --partitions) instead of loading one.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Admin } from "../src/rdkafka/index.ts";
import type { KafkaCluster } from "../test/harness/cluster.ts";
import { klinkSnapshot, testClusters } from "./test-clusters.ts";
import { writeTopic } from "./backlog-load.ts";
import { sampleProcess } from "./replicate/proc.ts";
import { uniqueName, withAdmin, plain } from "../test/helpers.ts";

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const GB = Number(arg("gb", "2"));
const VALUE = Number(arg("value", "640"));
const COMPRESSION = arg("compression", "zstd");
const PARTITIONS = Number(arg("partitions", "8"));
/** name=YAML under `limits:` (empty: the defaults), separated by ';'. */
const VARIANTS = arg("variants", "unguarded (memory: 1TiB)=memory: 1TiB;default limits=;memory 768MiB=memory: 768MiB, inFlightBytes: 128MiB;memory 512MiB=memory: 512MiB, inFlightBytes: 128MiB")
  .split(";")
  .map((v) => ({ name: v.slice(0, v.indexOf("=")), limits: v.slice(v.indexOf("=") + 1).trim() }));
const REPS = Number(arg("reps", "2"));
const SAMPLE_MS = 200;
const MiB = 2 ** 20;

async function load(source: KafkaCluster, topic: string, records: number): Promise<void> {
  const value = Buffer.alloc(VALUE, 0x61);
  await writeTopic(source, topic, { records, partitions: PARTITIONS, producer: { "linger.ms": 50, "compression.type": COMPRESSION } }, () => value);
}

/** Bytes of the topic's log segments on the source's disk (the harness's clusters are local), 0 when not found. */
function diskBytes(cluster: KafkaCluster, topic: string): number {
  let total = 0;
  try {
    for (const node of readdirSync(cluster.dir).filter((d) => d.startsWith("node-"))) {
      const data = join(cluster.dir, node, "data");
      for (const dir of readdirSync(data).filter((d) => d.startsWith(`${topic}-`))) {
        for (const f of readdirSync(join(data, dir)).filter((f) => f.endsWith(".log"))) total += statSync(join(data, dir, f)).size;
      }
    }
  } catch {
    return 0;
  }
  return total;
}

async function ends(cluster: KafkaCluster, topic: string): Promise<number[]> {
  return withAdmin(cluster, async (a) => (await a.watermarks(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })))).map((w) => w.high));
}

async function deleteAndWait(cluster: KafkaCluster, topic: string): Promise<void> {
  const admin = new Admin(plain(cluster));
  try {
    await admin.deleteTopics([topic]);
    for (let i = 0; i < 300 && admin.listTopics().some((t) => t.name === topic); i++) await Bun.sleep(200);
  } finally {
    admin.close();
  }
}

const vmRss = (pid: number): number => {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
};

interface Result {
  name: string;
  limits: string;
  seconds: number;
  peakRss: number;
  medianRss: number;
  cpuSeconds: number;
  samples: number[];
  paused: number;
}

async function run(source: KafkaCluster, target: KafkaCluster, topic: string, variant: { name: string; limits: string }, klink: string[], dir: string): Promise<Result> {
  const runDir = mkdtempSync(join(dir, "run-"));
  const file = join(runDir, "migration.yaml");
  const limits = variant.limits ? `limits:\n  ${variant.limits.split(",").map((s) => s.trim()).join("\n  ")}\n` : "";
  writeFileSync(
    file,
    `clusters:\n  source: { bootstrap: "${source.bootstrap}" }\n  target: { bootstrap: "${target.bootstrap}" }\nlink:\n  name: ${uniqueName("mem")}\n  topics: { names: [${topic}] }\n${limits}status:\n  listen: 127.0.0.1:${20000 + Math.floor(Math.random() * 10000)}\n`,
  );
  const t0 = performance.now();
  const proc = Bun.spawn([...klink, "run", file, "--until-caught-up"], { stdout: "ignore", stderr: "pipe" });
  const samples: number[] = [];
  let last = { cpuSeconds: 0, peakRssBytes: 0 };
  const timer = setInterval(() => {
    const rss = vmRss(proc.pid);
    if (rss) samples.push(rss);
    const s = sampleProcess(proc.pid);
    if (s) last = s;
  }, SAMPLE_MS);
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  clearInterval(timer);
  const seconds = (performance.now() - t0) / 1000;
  writeFileSync(join(runDir, "klink.log"), stderr);
  if (code !== 0) throw new Error(`klink exited with ${code} (log in ${runDir}):\n${stderr.slice(-3000)}`);
  const [src, tgt] = await Promise.all([ends(source, topic), ends(target, topic)]);
  if (src.join() !== tgt.join()) throw new Error(`target ends ${tgt} differ from source ends ${src} (log in ${runDir})`);
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    ...variant, seconds, peakRss: last.peakRssBytes, medianRss: sorted[Math.floor(sorted.length / 2)] ?? 0,
    cpuSeconds: last.cpuSeconds, samples, paused: (stderr.match(/memory: pausing/g) ?? []).length,
  };
}

/** RSS over the run in MiB, one value per second (the largest sample of that second). */
function perSecond(samples: number[]): string {
  const per = 1000 / SAMPLE_MS;
  const out: number[] = [];
  for (let i = 0; i < samples.length; i += per) out.push(Math.max(...samples.slice(i, i + per)));
  return out.map((b) => Math.round(b / MiB)).join(" ");
}

const { source, target, started } = await testClusters();
const dir = mkdtempSync(join(tmpdir(), "klink-memory-"));
const { argv: klink, build } = klinkSnapshot(dir);
const records = Math.round((GB * 1e9) / VALUE);
const bytes = records * VALUE;
const given = arg("topic", "");
const keep = given !== "" || process.argv.includes("--keep");
const topic = given || uniqueName(`memory-${GB}gb`);
const results: Result[] = [];
let disk = 0;
try {
  if (!given) {
    console.error(`loading ${GB} GB (${records} records of ${VALUE} B, ${COMPRESSION}) into ${topic}`);
    await load(source, topic, records);
  }
  disk = diskBytes(source, topic);
  console.error(`${topic}: ${(bytes / 1e6).toFixed(0)} MB of values, ${(disk / 1e6).toFixed(1)} MB on the source's disk (${disk ? (bytes / disk).toFixed(0) : "?"}×)`);
  for (let rep = 0; rep < REPS; rep++) for (let i = 0; i < VARIANTS.length; i++) {
    const v = VARIANTS[(i + rep) % VARIANTS.length]!;
    const name = REPS > 1 ? `${v.name} #${rep + 1}` : v.name;
    console.error(`run: ${name}`);
    const r = await run(source, target, topic, { ...v, name }, klink, dir);
    results.push(r);
    console.error(`  ${r.seconds.toFixed(1)} s, peak ${Math.round(r.peakRss / MiB)} MiB, median ${Math.round(r.medianRss / MiB)} MiB; RSS/s: ${perSecond(r.samples)}`);
    await deleteAndWait(target, topic);
  }
} finally {
  if (!keep) await deleteAndWait(source, topic).catch(() => {});
  if (started) Bun.spawnSync(["npx", "bun", "test/harness/cli.ts", "down"], { stdout: "inherit", stderr: "inherit" });
}

const date = new Date().toISOString().slice(0, 10);
const cell = (f: (r: Result) => string) => results.map(f).join(" | ");
const table = [
  `# klink's memory on a highly compressible backlog, ${date}`,
  "",
  `Source Kafka ${source.version}, target ${target.version}, one node each on loopback, 2 shared vCPUs; ${build}. ` +
    `${(bytes / 1e9).toFixed(2)} GB of values (${records.toLocaleString("en-US")} records of ${VALUE} B, every byte the same) in ${PARTITIONS} partitions, ` +
    `written ${COMPRESSION}-compressed before klink starts: ${(disk / 1e6).toFixed(1)} MB on the source's disk (${disk ? (bytes / disk).toFixed(0) : "?"}× smaller). ` +
    `Each column is one \`klink run --until-caught-up\` (exact offsets, the limits given) into a fresh target topic, back to back on the same backlog in the order shown; ` +
    `the target's end offsets equal the source's after each. RSS of the klink process sampled every ${SAMPLE_MS} ms (VmRSS); peak is VmHWM; time from spawn to exit.`,
  "",
  `| | ${cell((r) => r.name)} |`,
  `| --- | ${cell(() => "---:")} |`,
  `| limits | ${cell((r) => (r.limits ? `\`${r.limits}\`` : "defaults (memory: 1GiB, inFlightBytes: 256MiB)"))} |`,
  `| peak RSS (MiB) | ${cell((r) => String(Math.round(r.peakRss / MiB)))} |`,
  `| median RSS (MiB) | ${cell((r) => String(Math.round(r.medianRss / MiB)))} |`,
  `| seconds | ${cell((r) => r.seconds.toFixed(1))} |`,
  `| MB/s (values) | ${cell((r) => (bytes / 1e6 / r.seconds).toFixed(0))} |`,
  `| CPU s | ${cell((r) => r.cpuSeconds.toFixed(1))} |`,
  `| times fetching paused | ${cell((r) => String(r.paused))} |`,
  "",
  "RSS over each run, MiB, the largest sample of every second:",
  "",
  ...results.map((r) => `- ${r.name}: ${perSecond(r.samples)}`),
  "",
].join("\n");
mkdirSync("bench/results", { recursive: true });
writeFileSync(`bench/results/memory-${date}.md`, table);
console.log(table);
