/**
 * What GET /metrics costs klink: `klink run --until-caught-up` on the same backlog (1 KiB records,
 * 12 partitions) without and with a scraper reading /metrics every second, back to back in the
 * order off, on, on, off (repeated --rounds times); CPU seconds per GB of the klink process for each.
 * Usage: npx bun bench/metrics-overhead.ts [--mb 200] [--rounds 1]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { klinkSnapshot, testClusters } from "./test-clusters.ts";
import { sampleProcess } from "./replicate/proc.ts";
import { uniqueName, withAdmin } from "../test/helpers.ts";
import { loadBacklog, RECORD, PARTITIONS } from "./backlog-load.ts";

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const mb = Number(arg("mb", "200"));
const rounds = Number(arg("rounds", "1"));
const records = Math.round((mb * 1e6) / RECORD);
const bytes = records * RECORD;

const { source, target, started } = await testClusters();
const dir = mkdtempSync(join(tmpdir(), "klink-metrics-overhead-"));
const klink = klinkSnapshot(dir);

/** One run on a fresh copy of the backlog; CPU seconds of klink, seconds, and scrapes made. */
async function once(scrape: boolean): Promise<{ cpu: number; seconds: number; scrapes: number }> {
  const topic = uniqueName("metrics-overhead");
  await loadBacklog(source, topic, records);
  const port = 20000 + Math.floor(Math.random() * 10000);
  const file = join(dir, `${topic}.yaml`);
  writeFileSync(file, `clusters:\n  source: { bootstrap: "${source.bootstrap}" }\n  target: { bootstrap: "${target.bootstrap}" }\nlink:\n  name: ${topic}\n  topics: { names: [${topic}] }\nstatus:\n  listen: 127.0.0.1:${port}\n`);
  const t0 = performance.now();
  const proc = Bun.spawn([...klink.argv, "run", file, "--until-caught-up"], { stdout: "ignore", stderr: "pipe" });
  let cpu = 0;
  let scrapes = 0;
  const sampler = setInterval(() => {
    const s = sampleProcess(proc.pid);
    if (s) cpu = s.cpuSeconds;
  }, 100);
  const scraper = scrape
    ? setInterval(() => void fetch(`http://127.0.0.1:${port}/metrics`).then(async (r) => (await r.text(), r.ok && scrapes++)).catch(() => {}), 1_000)
    : null;
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  clearInterval(sampler);
  if (scraper) clearInterval(scraper);
  const seconds = (performance.now() - t0) / 1000;
  await withAdmin(source, (a) => a.deleteTopics([topic]));
  await withAdmin(target, (a) => a.deleteTopics([topic]));
  if (code !== 0) throw new Error(`klink exited with ${code}:\n${stderr}`);
  return { cpu, seconds, scrapes };
}

const rows: string[] = [];
const perGb = { off: [] as number[], on: [] as number[] };
try {
  for (let r = 0; r < rounds; r++) {
    for (const scrape of [false, true, true, false]) {
      const run = await once(scrape);
      const cpuPerGb = run.cpu / (bytes / 1e9);
      perGb[scrape ? "on" : "off"].push(cpuPerGb);
      rows.push(`| ${rows.length + 1} | ${scrape ? "every 1 s" : "none"} | ${run.scrapes} | ${run.seconds.toFixed(1)} | ${(bytes / 1e6 / run.seconds).toFixed(1)} | ${run.cpu.toFixed(2)} | ${cpuPerGb.toFixed(2)} |`);
      console.error(rows.at(-1));
    }
  }
} finally {
  if (started) Bun.spawnSync(["npx", "bun", "test/harness/cli.ts", "down"], { stdout: "inherit", stderr: "inherit" });
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const date = new Date().toISOString().slice(0, 10);
const [off, on] = [mean(perGb.off), mean(perGb.on)];
const table = [
  `# What scraping /metrics costs klink, ${date}`,
  "",
  `Source Kafka ${source.version}, target ${target.version}, one node each on loopback, 2 shared vCPUs. klink ${klink.build}. Each run: ${mb} MB (${records.toLocaleString("en-US")} records of ${RECORD} B, ${PARTITIONS} partitions, lz4) loaded on the source, then \`klink run --until-caught-up\` with its defaults; CPU of the klink process from /proc (sampled every 100 ms), time from spawn to exit. Order off, on, on, off.`,
  "",
  "| run | scraper | scrapes | seconds | MB/s | CPU s | CPU s/GB |",
  "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
  ...rows,
  "",
  `Mean CPU s/GB: ${off.toFixed(2)} without, ${on.toFixed(2)} with a scrape every second (${(((on - off) / off) * 100).toFixed(1)} %).`,
  "",
].join("\n");
mkdirSync("bench/results", { recursive: true });
writeFileSync(`bench/results/metrics-overhead-${date}.md`, table);
console.log(table);
