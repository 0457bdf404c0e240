/** `klink bench`'s report: a Markdown table (the default) or JSON with --json. */
import type { BenchReport } from "./run-bench.ts";
import type { Measured } from "./phases.ts";

const mbPerSecond = (m: Measured) => m.bytes / 1e6 / m.seconds;
const cpuPerGB = (m: Measured) => m.cpuSeconds / (m.bytes / 1e9);

export function markdown(r: BenchReport): string {
  const o = r.options;
  const data = o.sample ? `records sampled from ${o.sample}` : `${o.recordBytes}-byte records`;
  const lines = [
    `# klink bench: link ${r.link}`,
    "",
    `source ${r.source} → target ${r.target}; ${o.megabytes} MB of ${data} (${o.compression}), ${o.partitions} partitions; scratch topic ${r.scratchTopic}`,
    "",
    "| phase | records | MB | seconds | MB/s | records/s | CPU-s/GB |",
    "|---|---:|---:|---:|---:|---:|---:|",
    ...r.phases.map((m) => `| ${m.phase} | ${m.records} | ${(m.bytes / 1e6).toFixed(1)} | ${m.seconds.toFixed(2)} | ${mbPerSecond(m).toFixed(1)} | ${Math.round(m.records / m.seconds)} | ${cpuPerGB(m).toFixed(1)} |`),
    "",
  ];
  const lane = r.phases.find((m) => m.phase === "klink exact lane");
  const raw = r.phases.find((m) => m.phase === "raw librdkafka pipe");
  if (lane && raw) {
    lines.push(`exact lane / raw pipe: ${(mbPerSecond(lane) / mbPerSecond(raw)).toFixed(2)}× the MB/s, ${(cpuPerGB(lane) / cpuPerGB(raw)).toFixed(2)}× the CPU-s per GB (the exact lane's time includes creating its target topic and aligning its partitions)`);
  }
  const fast = r.phases.find((m) => m.phase === "fast lane (preview)");
  if (fast && raw) {
    lines.push(`fast lane / raw pipe: ${(mbPerSecond(fast) / mbPerSecond(raw)).toFixed(2)}× the MB/s, ${(cpuPerGB(fast) / cpuPerGB(raw)).toFixed(2)}× the CPU-s per GB (record batches copied as bytes; a preview, not yet used by \`klink run\`)`);
  }
  if (r.latency) {
    const l = r.latency;
    lines.push(`latency, from the record's CreateTime on the source to its read on the target (${l.records} records at ${o.rate}/s): p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms`);
  }
  lines.push("", r.leftBehind.length ? `NOT deleted, delete them by hand: ${r.leftBehind.join("; ")}` : "scratch topics deleted on both clusters");
  return lines.join("\n");
}

export function json(r: BenchReport): string {
  return JSON.stringify({ ...r, phases: r.phases.map((m) => ({ ...m, mbPerSecond: mbPerSecond(m), recordsPerSecond: m.records / m.seconds, cpuSecondsPerGB: cpuPerGB(m) })) }, null, 2);
}
