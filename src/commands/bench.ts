import type { Command } from "./command.ts";
import { EXIT_OK } from "./command.ts";
import { fileArg, parseArgs, parseCount, type ArgSpec } from "./args.ts";
import { loadForCommand } from "./load-config.ts";
import { LOG_OPTIONS_USAGE } from "./log-options.ts";
import { clusterClients, reachClusters } from "../link/session.ts";
import { runBench, type BenchOptions } from "../bench/run-bench.ts";
import { json, markdown } from "../bench/report.ts";
import { SCRATCH_PREFIX } from "../bench/scratch.ts";
import { log } from "../log.ts";
import { UserError } from "../errors.ts";

const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"];

const usage = `klink bench [FILE] [--mb N] [--record-bytes N] [--partitions N] [--compression CODEC]
                  [--rate N] [--seconds N] [--sample TOPIC] [--json]

Measures what the link in FILE can do between its two clusters before you start it: writing to
the source, reading from it, the raw librdkafka pipe (consumer → producer, no klink logic),
the fast lane (record batches copied as bytes; a preview, not yet used by \`klink run\`),
klink's exact lane (copying at identical offsets, as \`klink run\` does), and end-to-end latency
while the lane runs. It works only on scratch topics named ${SCRATCH_PREFIX}<link>-<random>,
created on both clusters for the run and deleted at the end; nothing is written to your topics.
klink's principal needs CREATE, DELETE, READ and WRITE on topics with that prefix on both
clusters (bench refuses, writing nothing, when a cluster does not allow it).
FILE defaults to ./migration.yaml; only its clusters, auth and limits are used.

Options:
  --mb N              megabytes of records to write and copy (default 200)
  --record-bytes N    value size of the generated records (default 1024)
  --partitions N      partitions of the scratch topic (default 6)
  --compression C     codec the bench writes the source with: ${CODECS.join(", ")} (default none)
  --rate N            latency phase: records a second (default 1000)
  --seconds N         latency phase: how long (default 10)
  --sample TOPIC      use the first records of this source topic as the data (read only)
  --json              print the report as JSON (stdout) instead of Markdown

${LOG_OPTIONS_USAGE}

Exit codes: 0 measured; 1 invalid FILE or arguments; 2 a cluster unreachable, refused the scratch
topics, or a phase failed (the scratch topics are deleted all the same).`;

const spec: ArgSpec = {
  flags: ["--json"], options: ["--mb", "--record-bytes", "--partitions", "--compression", "--rate", "--seconds", "--sample"],
  values: { "--compression": CODECS }, positionals: ["[FILE]"], log: true,
};

export const bench: Command = {
  name: "bench",
  summary: "measure the link's throughput and latency between its clusters, on scratch topics",
  usage,
  spec,
  async run(args) {
    const { positionals, flags, values } = parseArgs(args, { ...spec, usage });
    const count = (flag: string, def: number, min: number, max: number) => {
      const v = values.has(flag) ? parseCount(values.get(flag)!, flag, max, `bench's limit`) : def;
      if (v < min) throw new UserError(`${flag} must be at least ${min}, got ${v}`);
      return v;
    };
    const compression = values.get("--compression") ?? "none";
    if (!CODECS.includes(compression)) throw new UserError(`--compression must be one of ${CODECS.join(", ")}, got '${compression}'`);
    const options: BenchOptions = {
      megabytes: count("--mb", 200, 1, 1_000_000), recordBytes: count("--record-bytes", 1024, 1, 10_000_000),
      partitions: count("--partitions", 6, 1, 10_000), compression, rate: count("--rate", 1000, 1, 1_000_000),
      seconds: count("--seconds", 10, 1, 3600), sample: values.get("--sample"),
    };
    const loaded = await loadForCommand("bench", fileArg(positionals));
    if (typeof loaded === "number") return loaded;
    const { config } = loaded;
    await reachClusters(config, false);
    const clients = await clusterClients(config, false);
    const report = await runBench(config, clients, options, progressLine(), (line) => log.debug(line));
    console.log(flags.has("--json") ? json(report) : markdown(report));
    return EXIT_OK;
  },
};

/** One line per phase on stderr, rewritten in place on a terminal, else every 5 s. */
function progressLine() {
  const tty = process.stderr.isTTY;
  let last = 0;
  let phase = "";
  return (name: string, done: number, total: number) => {
    const now = Date.now();
    const changed = name !== phase;
    if (!changed && now - last < (tty ? 200 : 5_000)) return;
    if (changed && tty && phase) process.stderr.write("\n");
    [phase, last] = [name, now];
    const unit = name === "latency" ? `${done} of ${total} records` : `${(done / 1e6).toFixed(0)} of ${(total / 1e6).toFixed(0)} MB`;
    const line = `bench: ${name}: ${unit} (${Math.min(100, Math.round((done / Math.max(1, total)) * 100))}%)`;
    process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
  };
}
