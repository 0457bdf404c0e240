/**
 * CPU klink spends per GET /metrics: an idle link of 12 partitions, its idle CPU over 10 s, then 500
 * scrapes back to back; the CPU beyond idle divided by the scrapes. Two rounds.
 * Usage: KLINK_TEST_DIR=... npx bun bench/metrics-scrape-cost.ts (uses the running test clusters)
 */
import { writeMigration, KlinkRun } from "../test/link/klink-process.ts";
import { source, plain, uniqueName, withAdmin } from "../test/helpers.ts";
import { Producer } from "../src/rdkafka/index.ts";
import { sampleProcess } from "./replicate/proc.ts";
const topic = uniqueName("scrape-cost");
await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 12 }]));
const p = new Producer(plain(source())); for (let i = 0; i < 1200; i++) p.produce({ topic, partition: i % 12, value: "x" }); await p.flush(); await p.close();
const port = 20000 + Math.floor(Math.random() * 10000);
const run = new KlinkRun(writeMigration({ topics: [topic], linkName: topic, listen: `127.0.0.1:${port}` }));
for (;;) { try { const t = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(); if (t.includes("klink_starting 0")) break; } catch {} await Bun.sleep(200); }
await Bun.sleep(3000);
const cpu = () => sampleProcess(run.proc.pid)!.cpuSeconds;
for (const round of [1, 2]) {
  let c0 = cpu(), t0 = performance.now(); await Bun.sleep(10_000); const idle = (cpu() - c0) / ((performance.now() - t0) / 1000);
  c0 = cpu(); t0 = performance.now(); const n = 500; let size = 0;
  for (let i = 0; i < n; i++) size = (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).length;
  const secs = (performance.now() - t0) / 1000; const used = cpu() - c0 - idle * secs;
  console.log(`round ${round}: idle ${(idle * 1000).toFixed(1)} ms CPU/s; ${n} scrapes in ${secs.toFixed(2)} s, ${size} bytes each: ${(used / n * 1000).toFixed(2)} ms CPU per scrape beyond idle`);
}
await run.stop();
await withAdmin(source(), (a) => a.deleteTopics([topic]));
