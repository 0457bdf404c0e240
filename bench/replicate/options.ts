/** Command-line options of bench/run.ts and the cases they select. */
import { TOOLS, type Tool } from "./tools.ts";

export type Compression = "none" | "lz4";

export interface Case {
  /** e.g. "1k-lz4" */
  id: string;
  /** value bytes per record (keys are 8 more) */
  valueBytes: number;
  compression: Compression;
}

export interface BenchOptions {
  cases: Case[];
  /** repetitions of each tool per case (order rotates between repetitions) */
  reps: number;
  /** key + value bytes loaded per case, in MB (10^6 bytes), before the start is trimmed */
  mb: number;
  partitions: number;
  /** latency phase: seconds of warm-up (not counted), then seconds measured */
  latencyWarmupS: number;
  latencyMeasureS: number;
  latency: boolean;
  /** records/s of the latency phase; default: half of MirrorMaker 2's median steady rate */
  latencyRate: number | null;
  micro: boolean;
  /** leave the benchmark clusters running at the end (the next run reuses them) */
  keepClusters: boolean;
  quick: boolean;
  /** MirrorMaker 2's tasks.max */
  mm2Tasks: number;
  /** the tools to compare (default all three) */
  tools: Tool[];
  /** what-if: extra librdkafka settings for klink's and the pipe's source consumer */
  sourceLibrdkafka: Record<string, string>;
}

const SIZES: Record<string, number> = { "100b": 100, "1k": 1024, "10k": 10240 };
export const ALL_CASES: Case[] = (["none", "lz4"] as const).flatMap((compression) =>
  Object.entries(SIZES).map(([s, valueBytes]) => ({ id: `${s}-${compression}`, valueBytes, compression })),
);

const usage = `usage: npx bun bench/run.ts [--quick] [--cases ID,...] [--reps N] [--mb MB] [--latency-seconds W,M] [--latency-rate N]
                                [--no-latency] [--no-micro] [--keep-clusters] [--mm2-tasks N] [--tools klink,mm2,pipe]
                                [--source-librdkafka key=value,...]   (what-if: klink's and the pipe's source consumer)
       npx bun bench/run.ts --render bench/results/raw/<name>.json  (the report again from a run's raw results)
  cases: ${ALL_CASES.map((c) => c.id).join(", ")}`;

export function parseOptions(argv: string[]): BenchOptions {
  const quick = argv.includes("--quick");
  const o: BenchOptions = {
    cases: quick ? ALL_CASES.filter((c) => c.id === "100b-none" || c.id === "1k-lz4") : ALL_CASES,
    reps: quick ? 1 : 3,
    mb: quick ? 10 : 200,
    partitions: 12,
    latencyWarmupS: quick ? 2 : 5,
    latencyMeasureS: quick ? 4 : 15,
    latency: true,
    latencyRate: null,
    micro: true,
    keepClusters: false,
    quick,
    mm2Tasks: 4,
    tools: TOOLS,
    sourceLibrdkafka: {},
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${usage}`);
      return v;
    };
    const positive = (v: string) => {
      const n = Number(v);
      if (!(n > 0)) throw new Error(`${a}: expected a positive number, got ${v}\n${usage}`);
      return n;
    };
    if (a === "--quick") continue;
    else if (a === "--cases") {
      const ids = value().split(",").map((s) => s.trim().toLowerCase());
      const unknown = ids.filter((id) => !ALL_CASES.some((c) => c.id === id));
      if (unknown.length) throw new Error(`unknown case(s) ${unknown.join(", ")}\n${usage}`);
      o.cases = ALL_CASES.filter((c) => ids.includes(c.id));
    } else if (a === "--reps") o.reps = Math.round(positive(value()));
    else if (a === "--mb") o.mb = positive(value());
    else if (a === "--latency-seconds") {
      const [w, m] = value().split(",").map(positive);
      if (w === undefined || m === undefined) throw new Error(`--latency-seconds W,M (warm-up, measured)\n${usage}`);
      [o.latencyWarmupS, o.latencyMeasureS] = [w, m];
    } else if (a === "--latency-rate") o.latencyRate = Math.round(positive(value()));
    else if (a === "--no-latency") o.latency = false;
    else if (a === "--no-micro") o.micro = false;
    else if (a === "--keep-clusters") o.keepClusters = true;
    else if (a === "--mm2-tasks") o.mm2Tasks = Math.round(positive(value()));
    else if (a === "--source-librdkafka") {
      for (const kv of value().split(",")) {
        const [k, v] = kv.split("=");
        if (!k || v === undefined) throw new Error(`--source-librdkafka key=value[,key=value]\n${usage}`);
        o.sourceLibrdkafka[k.trim()] = v.trim();
      }
    } else if (a === "--tools") {
      const names = value().split(",").map((s) => s.trim());
      const unknown = names.filter((n) => !TOOLS.includes(n as Tool));
      if (unknown.length) throw new Error(`unknown tool(s) ${unknown.join(", ")}: use ${TOOLS.join(", ")}\n${usage}`);
      o.tools = TOOLS.filter((t) => names.includes(t));
    }
    else if (a === "--help" || a === "-h") throw new Error(usage);
    else throw new Error(`unknown option ${a}\n${usage}`);
  }
  return o;
}
