import type { Command } from "./command.ts";
import { EXIT_OK, EXIT_RUNTIME } from "./command.ts";
import { fileError, UserError } from "../errors.ts";
import { fileArg, parseArgs, parseCount, type ArgSpec } from "./args.ts";
import { loadForCommand } from "./load-config.ts";
import { openStore } from "../link/session.ts";
import { translateOffset } from "../link/partition/translate.ts";
import { exportRows, writeExport } from "../link/offset-export.ts";
import { copiedEnd } from "../link/partition/copied-end.ts";
import { exportGroupsCommand } from "./offsets-groups.ts";

const usage = `klink offsets translate [FILE] --topic T --partition P --offset O [--to target|source] [--json]
klink offsets export [FILE] --format parquet|csv --out PATH [--topics T1,T2] [--json]
klink offsets export-groups [FILE] --out DIR [--groups G1,G2] [--json]

translate: the offset on the other cluster of record O of T[P] (default: a source offset, answered
  with the target offset). In exact mode offsets are identical; in translate mode the answer comes
  from the offset map. An offset that holds no copied record (a committed group position, a
  transaction marker, a compacted hole) maps to the first copied record at or after it, so a
  consumer group moved with the answer skips nothing it had not consumed.

export: writes the offset map: one row per copied record of translate-mode partitions
  (topic, partition, mode, source_offset, target_offset, origin) and one row per exact-mode
  partition (origin "identical-from-here": offsets are equal from source_offset on); a partition
  that went from exact to translate mode (dual write) keeps a row with origin
  "identical-below-here": offsets below source_offset stayed equal on both clusters.
  --json prints {out, format, rows}.

export-groups: for consumer groups klink does not hand off (not under groups:, or ones it cannot
  hold on the target: KIP-848 protocol, Kafka Streams) that committed offsets on
  linked topics, or the groups named with --groups: one file DIR/<group>.csv each, with a
  "topic,partition,offset" line per partition giving the group's committed source offset as a
  target offset (translated where offsets differ). Apply it on the target with
  kafka-consumer-groups.sh --bootstrap-server TARGET --group G --reset-offsets --from-file FILE --execute
  (the group must have no active members there). Partitions not copied that far yet are left out
  and listed. Reads the groups' offsets on the source, the target's end offsets, and the state.

FILE defaults to ./migration.yaml.

Reads klink's state (the storage in FILE); translate of an exact-mode partition also asks the
target for the partition's end offset, where what klink copied ends.
Exit codes: 0 answered, 1 invalid FILE or arguments, 2 the partition is not linked or nothing
was copied at or after the offset yet.`;

const spec: ArgSpec = {
  words: ["translate", "export", "export-groups"],
  flags: ["--json"],
  options: ["--topic", "--partition", "--offset", "--to", "--format", "--out", "--topics", "--groups"],
  values: { "--to": ["target", "source"], "--format": ["parquet", "csv"] },
  positionals: ["[FILE]"],
};

export const offsets: Command = {
  name: "offsets",
  summary: "translate an offset between the clusters, or export the offset map (Parquet/CSV)",
  usage,
  spec,
  async run(args) {
    const [action, ...rest] = args;
    if (action !== "translate" && action !== "export" && action !== "export-groups") throw new UserError(`expected 'translate', 'export' or 'export-groups', got ${action === undefined ? "nothing" : `'${action}'`}\n\n${usage}`);
    const { positionals, flags, values } = parseArgs(rest, { ...spec, usage });
    if (action === "export-groups") return exportGroupsCommand(positionals, flags, values, usage);
    // arguments first: a mistake in them is reported without reading the state
    const request = action === "export" ? exportRequest(values) : translateRequest(values);
    const loaded = await loadForCommand("offsets", fileArg(positionals));
    if (typeof loaded === "number") return loaded;
    const store = await openStore(loaded.config, true);
    try {
      if ("out" in request) {
        const { format, out } = request;
        const rows = await exportRows(store, values.get("--topics")?.split(",").map((t) => t.trim()).filter(Boolean));
        try {
          writeExport(rows, format, out);
        } catch (err) {
          throw fileError(err, "write", out);
        }
        console.log(flags.has("--json") ? JSON.stringify({ out, format, rows: rows.length }) : `${rows.length} rows written to ${out} (${format})`);
        return EXIT_OK;
      }
      const { topic, partition, offset, to } = request;
      const t = await translateOffset(store, topic, partition, offset, to === "target" ? "source" : "target", () => copiedEnd(loaded.config, topic, partition));
      if (!t) {
        console.error(`klink offsets: ${topic}[${partition}] is not linked in ${store.location}`);
        return EXIT_RUNTIME;
      }
      if (flags.has("--json")) console.log(JSON.stringify(t));
      else if (t.translated === null) console.log(`${topic}[${partition}] ${t.from} offset ${offset}: no translation yet (${t.how})`);
      else console.log(`${topic}[${partition}] ${t.from} offset ${offset} = ${to} offset ${t.translated} (${t.how})`);
      return t.translated === null ? EXIT_RUNTIME : EXIT_OK;
    } finally {
      await store.close();
    }
  },
};

function exportRequest(values: Map<string, string>): { format: "parquet" | "csv"; out: string } {
  const format = values.get("--format") ?? "parquet";
  if (format !== "parquet" && format !== "csv") throw new UserError(`--format must be parquet or csv, got '${format}'`);
  const out = values.get("--out");
  if (!out) throw new UserError(`--out PATH is required\n\n${usage}`);
  return { format, out };
}

function translateRequest(values: Map<string, string>): { topic: string; partition: number; offset: number; to: "target" | "source" } {
  const partition = parseCount(required(values, "--partition"), "--partition", 2 ** 31 - 1, "Kafka's largest partition number, 2^31-1");
  const offset = parseCount(required(values, "--offset"), "--offset", Number.MAX_SAFE_INTEGER, "2^53-1, the largest offset klink handles exactly");
  const topic = required(values, "--topic");
  if (!topic.trim()) throw new UserError(`--topic names no topic\n\n${usage}`);
  const to = values.get("--to") ?? "target";
  if (to !== "target" && to !== "source") throw new UserError(`--to must be target or source, got '${to}'`);
  return { topic, partition, offset, to };
}

function required(values: Map<string, string>, flag: string): string {
  const value = values.get(flag);
  if (value === undefined) throw new UserError(`${flag} is required\n\n${usage}`);
  return value;
}
