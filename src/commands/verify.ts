import type { Command } from "./command.ts";
import { EXIT_OK, EXIT_RUNTIME } from "./command.ts";
import { fileArg, parseArgs, type ArgSpec } from "./args.ts";
import { loadForCommand } from "./load-config.ts";
import { Admin } from "../rdkafka/index.ts";
import { clusterClients, linkedTopics, openStore, reachClusters } from "../link/session.ts";
import { LOG_OPTIONS_USAGE } from "./log-options.ts";
import { verifyTopic, identical, differences, logDifferences, type PartitionVerdict } from "../link/verify.ts";

const usage = `klink verify [FILE] [--topics T1,T2] [--json] [--log-format text|json] [-v|-q]

Compares source and target partition by partition, every record read_committed on both
clusters with its key, value, headers and timestamp. A partition in exact mode (klink's state
says which) must hold every record at its source offset, and its log must start where the
source's does (or at the link's start offset) and end at the same offset. A partition in
translate mode is compared through the offset map: every record on both clusters once,
byte-identical, each producer's order kept; how many records are not at their source offset is
shown (with examples) but is not a difference there. Prints per partition the compared range and
counts, what differs, and the first difference with its offset. FILE defaults to ./migration.yaml.

Options:
  --topics T1,T2   only these linked topics
  --json           print the verdicts as JSON (stdout)

${LOG_OPTIONS_USAGE}

Exit codes: 0 identical, 1 invalid FILE or arguments, 2 differences found or a cluster unreachable.`;

const spec: ArgSpec = { flags: ["--json"], options: ["--topics"], positionals: ["[FILE]"], log: true };

export const verify: Command = {
  name: "verify",
  summary: "compare source and target record by record (exit 0 only when identical)",
  usage,
  spec,
  async run(args) {
    const { positionals, flags, values } = parseArgs(args, { ...spec, usage });
    const loaded = await loadForCommand("verify", fileArg(positionals));
    if (typeof loaded === "number") return loaded;
    const { config } = loaded;
    await reachClusters(config, true);
    const clients = await clusterClients(config, true);
    const admin = new Admin(clients.source.config, clients.source.options);
    let topics;
    try {
      topics = await linkedTopics(config, admin, values.get("--topics")?.split(",").map((t) => t.trim()).filter(Boolean));
    } finally {
      admin.close();
    }
    const store = await openStore(config, true);
    const verdicts: PartitionVerdict[] = [];
    try {
      for (const t of topics) verdicts.push(...(await verifyTopic(clients.source, clients.target, t.name, store)));
    } finally {
      await store.close();
    }
    const ok = verdicts.every(identical);
    if (flags.has("--json")) {
      console.log(JSON.stringify({ identical: ok, partitions: verdicts.map((v) => ({ ...v, identical: identical(v), differences: differences(v) })) }, null, 2));
    } else {
      for (const v of verdicts) console.log(verdictLine(v));
      const total = verdicts.reduce((n, v) => n + v.compared, 0);
      const elsewhere = verdicts.filter((v) => v.mode === "translate").reduce((n, v) => n + v.notAtSourceOffset, 0);
      const note = elsewhere ? ` (${elsewhere} of them, in translate mode, not at their source offset)` : "";
      console.log(ok ? `identical: ${total} records in ${verdicts.length} partitions${note}` : `NOT identical: see the partitions marked DIFFERENT`);
    }
    return ok ? EXIT_OK : EXIT_RUNTIME;
  },
};

/** One partition: its state, the compared range and counts, what differs, and the first difference. */
function verdictLine(v: PartitionVerdict): string {
  const state = !identical(v) ? "DIFFERENT" : v.mode === "translate" ? "identical through the offset map" : "identical";
  const e = v.notAtSourceOffsetExamples;
  const examples = `${e.map((x) => `source ${x.sourceOffset} → target ${x.targetOffset}`).join(", ")}${v.notAtSourceOffset > e.length ? ", …" : ""}`;
  const parts = [`offsets ${v.from}..${v.to - 1}, ${v.compared} records compared, ${v.mismatched} differ, ${v.missingOnTarget} missing on target, ${v.extraOnTarget} only on target`];
  if (v.mode === "exact") {
    if (v.notAtSourceOffset) parts.push(`${v.notAtSourceOffset} at another offset on the target (${examples})`);
    parts.push(...logDifferences(v));
  } else {
    const placed = v.notAtSourceOffset ? `${v.notAtSourceOffset} of ${v.compared} records not at their source offset (${examples})` : "every record at its source offset";
    parts.push(`translate mode: ${placed}; log start offsets source ${v.source.logStartOffset}, target ${v.target.logStartOffset}; log end offsets source ${v.source.highWatermark}, target ${v.target.highWatermark}`);
  }
  if (v.reordered) parts.push(`${v.reordered} out of their producer's order`);
  const first = v.firstDifference ? `; first difference at offset ${v.firstDifference.offset}: ${v.firstDifference.what}` : "";
  return `${v.topic}[${v.partition}] ${state}: ${parts.join("; ")}${first}`;
}
