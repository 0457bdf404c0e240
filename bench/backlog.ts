/**
 * klink's memory and speed on a large backlog: N GB (1 KiB records, 12 partitions) written to
 * the source first, then `klink run --until-caught-up`; peak RSS (VmHWM), CPU seconds per GB and
 * catch-up throughput of the klink process. The in-flight cap (limits.inFlightBytes, 256 MiB by
 * default) is what keeps RSS from growing with the backlog.
 * Usage: npm run bench:backlog [-- --gb 1,4]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { testClusters } from "./test-clusters.ts";
import { sampleProcess } from "./replicate/proc.ts";
import { uniqueName, withAdmin } from "../test/helpers.ts";
import { loadBacklog as load, RECORD, PARTITIONS } from "./backlog-load.ts";

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const sizesGb = arg("gb", "1,4").split(",").map(Number);

const { source, target, started } = await testClusters();
const rows: string[] = [];
try {
  for (const gb of sizesGb) {
    const records = Math.round((gb * 1e9) / RECORD);
    const topic = uniqueName(`backlog-${gb}gb`);
    console.error(`loading ${gb} GB (${records} records of ${RECORD} B) into ${topic}`);
    await load(source, topic, records);
    const dir = mkdtempSync(join(tmpdir(), "klink-backlog-"));
    const file = join(dir, "migration.yaml");
    writeFileSync(file, `clusters:\n  source: { bootstrap: "${source.bootstrap}" }\n  target: { bootstrap: "${target.bootstrap}" }\nlink:\n  name: ${topic}\n  topics: { names: [${topic}] }\nstatus:\n  listen: 127.0.0.1:${20000 + Math.floor(Math.random() * 10000)}\n`);
    const t0 = performance.now();
    const proc = Bun.spawn([resolve("dist/klink"), "run", file, "--until-caught-up"], { stdout: "ignore", stderr: "pipe" });
    let last = { cpuSeconds: 0, peakRssBytes: 0 };
    const timer = setInterval(() => {
      const s = sampleProcess(proc.pid);
      if (s) last = s;
    }, 100);
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    clearInterval(timer);
    const seconds = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`klink exited with ${code}:\n${stderr}`);
    const bytes = records * RECORD;
    rows.push(`| ${gb} GB | ${records.toLocaleString("en-US")} | ${seconds.toFixed(1)} | ${Math.round(records / seconds).toLocaleString("en-US")} | ${(bytes / 1e6 / seconds).toFixed(1)} | ${(last.cpuSeconds / (bytes / 1e9)).toFixed(1)} | ${Math.round(last.peakRssBytes / 2 ** 20)} |`);
    console.error(rows[rows.length - 1]);
    await withAdmin(source, (a) => a.deleteTopics([topic]));
    await withAdmin(target, (a) => a.deleteTopics([topic]));
  }
} finally {
  if (started) Bun.spawnSync(["npx", "bun", "test/harness/cli.ts", "down"], { stdout: "inherit", stderr: "inherit" });
}
const date = new Date().toISOString().slice(0, 10);
const table = [
  `# klink on a backlog, ${date}`,
  "",
  `Source Kafka ${source.version}, target ${target.version}, one node each on loopback, 2 shared vCPUs. ${PARTITIONS} partitions, ${RECORD} B records of pseudo-random letters written lz4-compressed before klink starts; klink with its defaults (limits.inFlightBytes 256 MiB, exact offsets). CPU and peak RSS (VmHWM) of the klink process, sampled every 100 ms; time from spawn to exit (start-up, alignment and shutdown included).`,
  "",
  "| backlog | records | seconds | records/s | MB/s | CPU s/GB | peak RSS (MiB) |",
  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ...rows,
  "",
].join("\n");
mkdirSync("bench/results", { recursive: true });
writeFileSync(`bench/results/backlog-${date}.md`, table);
console.log(table);
