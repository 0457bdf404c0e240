/**
 * The micro benchmarks (tinybench) of klink's hot paths, in ns per op:
 *   npx bun bench/micro/run.ts          a table
 *   npx bun bench/micro/run.ts --json   JSON (bench/run.ts includes it in its report)
 * No Kafka cluster needed: the forwarding benchmark runs on librdkafka's mock cluster.
 */
import { configLoadBench } from "./config-load.ts";
import { forwardBench } from "./forward.ts";
import { offsetMapBench } from "./offset-map.ts";
import type { MicroResult } from "../replicate/report.ts";

const all: MicroResult[] = [];
for (const [name, run] of [["forwarding", forwardBench], ["config load", configLoadBench], ["offset map", offsetMapBench]] as const) {
  const t = performance.now();
  all.push(...(await run()));
  console.error(`[micro] ${name}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
if (process.argv.includes("--json")) {
  console.log(JSON.stringify(all));
} else {
  const fmt = (x: number) => Math.round(x).toLocaleString("en-US").padStart(12);
  console.log(`${"benchmark".padEnd(58)} ${"ns/op".padStart(12)} ${"p50".padStart(12)} ${"p99".padStart(12)}  ±%    one op`);
  for (const m of all) console.log(`${m.name.padEnd(58)} ${fmt(m.nsPerOp)} ${fmt(m.p50Ns)} ${fmt(m.p99Ns)}  ${m.rmePct.toFixed(1).padStart(4)}  ${m.op}`);
}
process.exit(0);
