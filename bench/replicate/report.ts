/** The results as a Markdown report and an SVG chart (drawn by hand: no dependency). */
import type { BenchResults, CaseResult, RunResult } from "./main.ts";
import { copyPhase, median, steadyRate } from "./stats.ts";
import { TOOLS as ALL_TOOLS, TOOL_LABEL, type Tool } from "./tools.ts";
import type { Latency } from "./latency.ts";

export interface MicroResult {
  name: string;
  /** what one op is */
  op: string;
  nsPerOp: number;
  p50Ns: number;
  p99Ns: number;
  rmePct: number;
  samples: number;
}

const GB = 1e9;
const MB = 1e6;

export interface ToolFigures {
  tool: Tool;
  reps: number;
  recPerS: number[];
  steadyRecPerS: number[];
  firstRecordS: number[];
  cpuPerGB: number[];
  recPerCpuS: number[];
  /** the same, over the copy phase only (startup excluded) */
  copyCpuPerGB: number[];
  copyRecPerCpuS: number[];
  peakRssBytes: number;
  usageFromRusage: number;
}

export function figures(c: CaseResult, tool: Tool): ToolFigures | null {
  const runs = c.runs.filter((r) => r.tool === tool);
  if (!runs.length) return null;
  const cpu = (r: RunResult) => r.catchUp.usage.cpuSeconds;
  const copy = runs.map((r) => copyPhase(r.catchUp, c.records)).filter((x) => x !== null);
  const recordBytes = c.bytes / c.records;
  return {
    tool,
    reps: runs.length,
    recPerS: runs.map((r) => c.records / r.catchUp.doneS),
    steadyRecPerS: runs.map((r) => steadyRate(r.catchUp, c.records)).filter((x): x is number => x !== null),
    firstRecordS: runs.map((r) => r.catchUp.firstRecordS),
    cpuPerGB: runs.map((r) => cpu(r) / (c.bytes / GB)),
    recPerCpuS: runs.map((r) => c.records / cpu(r)),
    copyCpuPerGB: copy.map((x) => x.cpuSeconds / ((x.records * recordBytes) / GB)),
    copyRecPerCpuS: copy.map((x) => x.records / x.cpuSeconds),
    peakRssBytes: Math.max(...runs.map((r) => r.catchUp.usage.peakRssBytes)),
    usageFromRusage: runs.filter((r) => r.catchUp.usageFrom === "rusage").length,
  };
}

const int = (x: number) => Math.round(x).toLocaleString("en-US");
const fix = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "–");
/** median, and [min–max] when there is more than one value */
/** The tools this run compared (older results without the option: all of them). */
const ran = (r: BenchResults): Tool[] => ALL_TOOLS.filter((t) => (r.options.tools ?? ALL_TOOLS).includes(t));

function spread(xs: number[], f: (x: number) => string): string {
  if (!xs.length) return "–";
  if (xs.length === 1) return f(xs[0]!);
  return `${f(median(xs))} [${f(Math.min(...xs))}–${f(Math.max(...xs))}]`;
}
const geomean = (xs: number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);

/** records per CPU-second of tool a ÷ that of tool b (medians); `copy`: over the copy phase only */
function ratio(c: CaseResult, a: Tool, b: Tool, copy: boolean): number | null {
  return ratioOf(c, a, b, (f) => (copy ? f.copyRecPerCpuS : f.recPerCpuS));
}

/** MB/s (records/s: the same bytes per record) of tool a ÷ that of tool b (medians); `steady`: from the first record on the target */
function speedRatio(c: CaseResult, a: Tool, b: Tool, steady: boolean): number | null {
  return ratioOf(c, a, b, (f) => (steady ? f.steadyRecPerS : f.recPerS));
}

function ratioOf(c: CaseResult, a: Tool, b: Tool, pick: (f: ToolFigures) => number[]): number | null {
  const fa = figures(c, a);
  const fb = figures(c, b);
  if (!fa || !fb) return null;
  const [xa, xb] = [pick(fa), pick(fb)];
  if (!xa.length || !xb.length) return null;
  return median(xa) / median(xb);
}

export function renderMarkdown(r: BenchResults, svgName: string): string {
  const o = r.options;
  const out: string[] = [];
  const line = (s = "") => out.push(s);
  const row = (cells: Array<string | number>) => line(`| ${cells.join(" | ")} |`);
  line(`# klink vs MirrorMaker 2 vs the raw pipe, ${r.date}${o.quick ? " (quick smoke run: too small to quote)" : ""}`);
  line();
  line(`Produced by \`npm run bench\` (bench/run.ts) in ${(r.durationS / 60).toFixed(1)} min, started ${r.startedAt}.`);
  line(`Machine: ${r.machine.cpus} vCPUs, ${r.machine.memGiB} GiB, Linux ${r.machine.kernel}; load average at the start ${r.machine.load} ` +
    `(the machine is shared: other Kafka clusters and test runs were active, so absolute numbers are noisy; the tools ran interleaved, so they saw the same noise).`);
  line(`Source Kafka ${r.versions.source}, target Kafka ${r.versions.target}: one KRaft node each, PLAINTEXT on loopback, on the same machine as the replicators. ` +
    `klink: ${r.versions.klink ?? "dist/klink"} (Bun ${r.versions.bun}, librdkafka ${r.versions.librdkafka}); MirrorMaker 2 from Kafka ${r.versions.mm2} jars (${r.versions.java}, ${r.mm2Jvm ?? "-Xms256m -Xmx1g -XX:+UseG1GC"}); ` +
    `the raw pipe is bench/replicate/pipe.ts: klink's binding, a consumer feeding \`Producer.forward\`, no logic` +
    (ran(r).includes("klink-fast") ? "; klink, link.fastLane is the same `klink run` with `link.fastLane: true` (plain partitions copied as record batches once their start is aligned)" : "") +
    (ran(r).includes("lane") ? "; the fast lane copy step alone is bench/replicate/lane.ts: src/fast-lane's BatchCopier over all partitions, record batches copied as bytes, without klink run around it (the trimmed head of each partition, up to its first batch boundary, goes through librdkafka as the exact lane would)." : "."));
  line();
  const whatIf = Object.entries(o.sourceLibrdkafka ?? {});
  if (whatIf.length) {
    line(`**What-if run, not klink as shipped:** klink's and the pipe's source consumer had ${whatIf.map(([k, v]) => `\`${k}=${v}\``).join(", ")} added.`);
    line();
  }
  line(`![throughput and CPU per GB](${svgName})`);
  line();
  line("## Method");
  line();
  line(`- Data per case: ${o.partitions} partitions; record key = 8-byte sequence number, value = text-like bytes from a seeded generator (same bytes every run). ` +
    `${o.mb} MB of key + value loaded, then the first 1% of every partition deleted (DeleteRecords, as retention would), so the source log starts above 0. ` +
    `Compression "lz4" means: loaded with lz4, and every tool's producer writes lz4 (klink: \`clusters.target.librdkafka.compression.type\`; MM2: \`target.producer.compression.type\`).`);
  line(`- Each tool replicates the case's topic ${o.reps}× into a freshly created, empty target topic of the same name, in rotating order (klink, MM2, pipe / MM2, pipe, klink / ...). ` +
    `klink: \`klink run FILE --until-caught-up\` (exact offsets, limits.inFlightBytes 256MiB); MM2: dedicated mode, its internal topics deleted before every start; pipe: its own process.`);
  line("- **Throughput from start** = records ÷ (time from spawning the tool until the target's end offsets show every record; polled every 100 ms). " +
    "**Steady** = the same from the first record seen on the target (startup excluded). **First record** = time from spawning the tool to the first record on the target. " +
    `The slowest poll of the target's offsets in this run took ${fix(Math.max(0, ...r.cases.flatMap((c) => c.runs.map((x) => x.catchUp.slowestPollS ?? 0))), 2)} s (the resolution of these times).`);
  line("- **CPU s/GB** = user + system CPU seconds of the tool's own process (all threads; /proc/PID/stat at the moment the target was complete) per GB (10^9 bytes) of key + value copied. " +
    "**Records per CPU-s** = records ÷ those CPU seconds. **Copy phase** = the same from the first record on the target to the last (JVM start-up, connecting, klink's start alignment excluded). klink exits by itself when caught up; when it was gone before the last poll, its whole-life rusage (including shutdown) is used. " +
    "**Peak RSS** = VmHWM.");
  line(`- **Latency**: a fresh topic pair with message.timestamp.type=LogAppendTime on both clusters; records produced at half of MirrorMaker 2's median steady rate for ${o.latencyWarmupS} s (not counted) + ${o.latencyMeasureS} s, after 30 s of load through the raw pipe that warms the brokers' JVMs up; ` +
    "latency = target append time − source append time (ms, both brokers on the same clock), matched by key.");
  line("- **Fidelity** (first repetition): every target record is read back (read_committed) and matched by key to its source position. " +
    "**At another offset** = records whose target offset differs from the source offset. **Group**: a group committed on the source at about half of each partition; " +
    "its target offset is what MM2's checkpoints wrote to the target group (sync.group.offsets.enabled, waited for up to 60 s after catch-up), " +
    "the same number for klink (exact mode: offsets are identical, nothing to translate), and the same number copied as-is for the pipe (it translates nothing). " +
    "**Re-delivered** = records a consumer resuming there reads again; **skipped** = records it never reads.");
  line();

  line("## Catch-up");
  line();
  row(["case", "tool", "records/s from start", "MB/s from start", "steady records/s", "first record after (s)", "CPU s/GB", "CPU s/GB copy phase", "records per CPU-s", "records per CPU-s copy phase", "peak RSS (MiB)"]);
  row(["---", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:"]);
  for (const c of r.cases) {
    for (const tool of ran(r)) {
      const f = figures(c, tool);
      if (!f) {
        row([c.kase.id, TOOL_LABEL[tool], "failed", "", "", "", "", "", "", "", ""]);
        continue;
      }
      const mbps = f.recPerS.map((x) => (x * c.bytes) / c.records / MB);
      row([c.kase.id, TOOL_LABEL[tool], spread(f.recPerS, int), spread(mbps, (x) => fix(x)), spread(f.steadyRecPerS, int), spread(f.firstRecordS, (x) => fix(x)),
        spread(f.cpuPerGB, (x) => fix(x)), spread(f.copyCpuPerGB, (x) => fix(x)), spread(f.recPerCpuS, int), spread(f.copyRecPerCpuS, int), fix(f.peakRssBytes / 2 ** 20, 0)]);
    }
  }
  line();
  line(`Median [min–max] of ${o.reps} repetition(s). Per case: ${r.cases.map((c) => `${c.kase.id} ${int(c.records)} records, ${fix(c.bytes / MB, 0)} MB`).join("; ")}.`);
  line();

  line("## Where the CPU went");
  line();
  line("CPU seconds by thread (from /proc/PID/task/*/stat, grouped by thread name) in each tool's median-throughput repetition, startup included.");
  line();
  row(["case", "tool", "CPU s", "by thread"]);
  row(["---", "---", "---:", "---"]);
  for (const c of r.cases) {
    for (const tool of ran(r)) {
      const runs = c.runs.filter((x) => x.tool === tool).sort((a, b) => a.catchUp.doneS - b.catchUp.doneS);
      const mid = runs[(runs.length - 1) >> 1];
      if (!mid) continue;
      const parts = Object.entries(mid.catchUp.threads ?? {}).filter(([, v]) => v >= 0.005).sort((a, b) => b[1] - a[1]);
      row([c.kase.id, TOOL_LABEL[tool], fix(mid.catchUp.usage.cpuSeconds, 2), parts.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ")]);
    }
  }
  line();

  line("## Latency and fidelity");
  line();
  if (ran(r).some((t) => t === "klink-fast" || t === "lane")) {
    line("The fast lane has no latency figures here: the method stamps both topics with LogAppendTime, and the fast lane leaves such batches to the exact lane (docs/fast-lane.md, \"Timestamps\").");
    line();
  }
  row(["case", "tool", "rate (records/s, target / achieved)", "latency p50 (ms)", "p99 (ms)", "max (ms)", "records at another offset", "duplicates / missing", "group: re-delivered / skipped"]);
  row(["---", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:"]);
  for (const c of r.cases) {
    for (const tool of ran(r)) {
      const l = c.latency[tool];
      const lat = l && !("error" in l) ? (l as Latency) : null;
      const fid = c.runs.find((x) => x.tool === tool && x.fidelity)?.fidelity;
      const group = fid?.group
        ? fid.group.partitionsWithOffset < r.options.partitions
          ? `${int(fid.group.redelivered)} / ${int(fid.group.skipped)} (offsets for ${fid.group.partitionsWithOffset} of ${r.options.partitions} partitions)`
          : `${int(fid.group.redelivered)} / ${int(fid.group.skipped)}`
        : fid ? "no offsets written" : "–";
      row([c.kase.id, TOOL_LABEL[tool],
        lat ? `${int(lat.rate)} / ${int(lat.achievedRate)}` : l ? "failed" : "–",
        lat ? fix(lat.p50Ms, 0) : "–", lat ? fix(lat.p99Ms, 0) : "–", lat ? fix(lat.maxMs, 0) : "–",
        fid ? `${int(fid.atOtherOffset)} of ${int(fid.recordsRead)}` : "–",
        fid ? `${int(fid.duplicates)} / ${int(fid.missing)}` : "–",
        group]);
    }
  }
  line();
  const errors = r.cases.flatMap((c) => c.errors.map((e) => `${c.kase.id}: ${e.split("\n")[0]}`));
  if (errors.length) {
    line("## Failures");
    line();
    for (const e of errors) line(`- ${e}`);
    line();
  }

  if (r.micro?.length) {
    line("## Micro benchmarks (tinybench, bench/micro/)");
    line();
    row(["benchmark", "one op", "ns/op (mean)", "p50 (ns)", "p99 (ns)", "± (%)", "samples"]);
    row(["---", "---", "---:", "---:", "---:", "---:", "---:"]);
    for (const m of r.micro) row([m.name, m.op, int(m.nsPerOp), int(m.p50Ns), int(m.p99Ns), fix(m.rmePct, 1), int(m.samples)]);
    line();
  }

  line("## MirrorMaker 2 configuration");
  line();
  line("Dedicated mode (`org.apache.kafka.connect.mirror.MirrorMaker mm2.properties`); per case the topic name and the compression are filled in:");
  line();
  line("```properties");
  line(r.mm2Config.trimEnd());
  line("```");
  line();

  line("## Throughput per CPU-second, klink relative to the others");
  line();
  line("Records copied per CPU-second of the replicator's own process (medians): from start (startup included) and over the copy phase only.");
  line();
  row(["case", "klink / MirrorMaker 2", "klink / MirrorMaker 2, copy phase", "klink / raw pipe", "klink / raw pipe, copy phase"]);
  row(["---", "---:", "---:", "---:", "---:"]);
  const all = { mm2: [] as number[], mm2Copy: [] as number[], pipe: [] as number[], pipeCopy: [] as number[] };
  const x = (v: number | null, into: number[]) => {
    if (v === null) return "–";
    into.push(v);
    return `${v.toFixed(2)}×`;
  };
  for (const c of r.cases) {
    row([c.kase.id, x(ratio(c, "klink", "mm2", false), all.mm2), x(ratio(c, "klink", "mm2", true), all.mm2Copy),
      x(ratio(c, "klink", "pipe", false), all.pipe), x(ratio(c, "klink", "pipe", true), all.pipeCopy)]);
  }
  line();
  const g = (xs: number[]) => (xs.length ? `${geomean(xs).toFixed(2)}×` : "n/a");
  line(`Throughput per CPU-second (geometric mean over ${r.cases.length} case(s)): klink/MM2 ${g(all.mm2)} from start, ${g(all.mm2Copy)} copy phase; ` +
    `klink/pipe ${g(all.pipe)} from start, ${g(all.pipeCopy)} copy phase`);
  const speed = (b: Tool, steady: boolean) => g(r.cases.map((c) => speedRatio(c, "klink", b, steady)).filter((v): v is number => v !== null));
  line();
  line(`MB/s (geometric mean over the same cases): klink/MM2 ${speed("mm2", false)} from start, ${speed("mm2", true)} steady; ` +
    `klink/pipe ${speed("pipe", false)} from start, ${speed("pipe", true)} steady`);
  // CPU-s/GB of `tool` relative to the raw pipe's, copy phase (pipe's records per CPU-s over the tool's)
  const cpuToPipe = (tool: Tool, label: string) => {
    const each = r.cases.map((c) => ratio(c, "pipe", tool, true)).filter((v): v is number => v !== null);
    if (!each.length) return;
    line();
    line(`${label}: CPU-s/GB relative to the raw pipe's, copy phase (geometric mean): ${g(each)} ` +
      `(${r.cases.map((c) => `${c.kase.id} ${ratio(c, "pipe", tool, true)?.toFixed(2) ?? "–"}×`).join(", ")}); the target is at most 0.50×.`);
  };
  cpuToPipe("klink-fast", "klink with link.fastLane");
  const fastToMm2 = r.cases.map((c) => ratio(c, "klink-fast", "mm2", true)).filter((v): v is number => v !== null);
  if (fastToMm2.length) line(`klink with link.fastLane / MirrorMaker 2, records per CPU-second, copy phase (geometric mean): ${g(fastToMm2)}; MB/s ${g(r.cases.map((c) => speedRatio(c, "klink-fast", "mm2", true)).filter((v): v is number => v !== null))} steady.`);
  cpuToPipe("lane", "The fast lane's copy step alone");
  return out.join("\n") + "\n";
}

// ---------- SVG ----------

const COLORS: Record<Tool, string> = { klink: "#1f77b4", "klink-fast": "#9ecae1", mm2: "#e6550d", pipe: "#8c8c8c", lane: "#31a354" };

function niceMax(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function panel(r: BenchResults, y0: number, width: number, height: number, title: string, value: (c: CaseResult, f: ToolFigures) => number[]): string {
  const left = 70;
  const right = 20;
  const top = y0 + 30;
  const plotH = height - 75;
  const plotW = width - left - right;
  const all = r.cases.flatMap((c) => ran(r).flatMap((t) => {
    const f = figures(c, t);
    return f ? value(c, f) : [];
  }));
  const max = niceMax(Math.max(...all, 0) * 1.05);
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const parts: string[] = [];
  parts.push(`<text x="${left}" y="${y0 + 18}" font-size="15" font-weight="bold">${esc(title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const v = (max / 5) * i;
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="11" text-anchor="end">${v >= 100 ? Math.round(v) : +v.toFixed(1)}</text>`);
  }
  parts.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#333"/>`);
  parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`);
  const groupW = plotW / Math.max(r.cases.length, 1);
  const barW = Math.min(34, (groupW * 0.8) / ran(r).length);
  r.cases.forEach((c, gi) => {
    const gx = left + gi * groupW + (groupW - barW * ran(r).length) / 2;
    ran(r).forEach((t, ti) => {
      const f = figures(c, t);
      const x = gx + ti * barW;
      if (!f) {
        parts.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${top + plotH - 4}" font-size="10" text-anchor="middle" fill="${COLORS[t]}">×</text>`);
        return;
      }
      const vs = value(c, f);
      if (!vs.length) return;
      const m = median(vs);
      parts.push(`<rect x="${(x + 1).toFixed(1)}" y="${y(m).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(top + plotH - y(m)).toFixed(1)}" fill="${COLORS[t]}"><title>${esc(`${c.kase.id} ${TOOL_LABEL[t]}: ${m.toFixed(2)}`)}</title></rect>`);
      if (vs.length > 1) {
        const cx = (x + barW / 2).toFixed(1);
        const lo = y(Math.min(...vs)).toFixed(1);
        const hi = y(Math.max(...vs)).toFixed(1);
        parts.push(`<line x1="${cx}" x2="${cx}" y1="${lo}" y2="${hi}" stroke="#000" stroke-width="1"/>`);
        parts.push(`<line x1="${(x + barW / 2 - 4).toFixed(1)}" x2="${(x + barW / 2 + 4).toFixed(1)}" y1="${lo}" y2="${lo}" stroke="#000"/>`);
        parts.push(`<line x1="${(x + barW / 2 - 4).toFixed(1)}" x2="${(x + barW / 2 + 4).toFixed(1)}" y1="${hi}" y2="${hi}" stroke="#000"/>`);
      }
      const label = m >= 100 ? Math.round(m).toString() : m.toFixed(1);
      parts.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${(y(Math.max(...vs)) - 3).toFixed(1)}" font-size="9" text-anchor="middle">${label}</text>`);
    });
    parts.push(`<text x="${(left + gi * groupW + groupW / 2).toFixed(1)}" y="${top + plotH + 16}" font-size="12" text-anchor="middle">${esc(c.kase.id)}</text>`);
  });
  return parts.join("\n");
}

export function renderSvg(r: BenchResults): string {
  const width = 960;
  const panelH = 320;
  const height = 75 + panelH * 2;
  const legend = ran(r).map((t, i) =>
    `<rect x="${70 + i * 170}" y="50" width="14" height="14" fill="${COLORS[t]}"/><text x="${90 + i * 170}" y="62" font-size="13">${esc(TOOL_LABEL[t])}</text>`).join("\n");
  const body = [
    panel(r, 70, width, panelH, "Catch-up throughput, MB/s from start (higher is better)", (c, f) => f.recPerS.map((x) => (x * c.bytes) / c.records / MB)),
    panel(r, 70 + panelH, width, panelH, "CPU seconds of the replicator's own process per GB copied (lower is better)", (_c, f) => f.cpuPerGB),
  ];
  const sub = `${r.options.partitions} partitions, ${r.options.mb} MB per case, source Kafka ${r.versions.source} → target ${r.versions.target}, ${r.machine.cpus} vCPUs; bars: median of ${r.options.reps}, whiskers: min–max`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<text x="70" y="22" font-size="17" font-weight="bold">klink vs MirrorMaker 2 vs the raw librdkafka pipe, ${esc(r.date)}${r.options.quick ? " (quick run)" : ""}</text>
<text x="70" y="40" font-size="12" fill="#444">${esc(sub)}</text>
${legend}
${body.join("\n")}
</svg>
`;
}
