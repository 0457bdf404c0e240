import type { Command } from "./command.ts";
import { EXIT_OK, EXIT_RUNTIME } from "./command.ts";
import { parseArgs } from "./args.ts";
import { loadForCommand } from "./load-config.ts";
import { Admin } from "../rdkafka/index.ts";
import { clusterClients, linkedTopics, openStore } from "../link/session.ts";
import { verifyTopic, identical, type PartitionVerdict } from "../link/verify.ts";

const usage = `klink verify FILE [--topics T1,T2] [--json]

Compares source and target partition by partition over the mirrored range: every record
read_committed on both clusters, at the same offset, with the same key, value, headers and
timestamp. Prints per partition the compared range and counts, records missing on either side,
and the first difference with its offset.

Options:
  --topics T1,T2   only these linked topics
  --json           print the verdicts as JSON

Exit codes: 0 identical, 1 invalid FILE or arguments, 2 differences found or a cluster unreachable.`;

export const verify: Command = {
  name: "verify",
  summary: "compare source and target record by record (exit 0 only when identical)",
  usage,
  async run(args) {
    const { positionals, flags, values } = parseArgs(args, { flags: ["--json"], options: ["--topics"], maxPositionals: 1, usage });
    const loaded = await loadForCommand("verify", positionals[0] ?? "migration.yaml");
    if (typeof loaded === "number") return loaded;
    const { config } = loaded;
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
      console.log(JSON.stringify({ identical: ok, partitions: verdicts }, null, 2));
    } else {
      for (const v of verdicts) {
        const state = identical(v) ? "identical" : "DIFFERENT";
        const detail = v.firstDifference ? `; first difference at offset ${v.firstDifference.offset}: ${v.firstDifference.what}` : "";
        const starts = v.source.logStartOffset === v.target.logStartOffset ? "" : ` (log start offsets differ: source ${v.source.logStartOffset}, target ${v.target.logStartOffset})`;
        console.log(
          `${v.topic}[${v.partition}] ${state}: offsets ${v.from}..${v.to - 1}, ${v.compared} records compared, ${v.mismatched} differ, ` +
            `${v.missingOnTarget} missing on target, ${v.extraOnTarget} only on target${starts}${detail}`,
        );
      }
      const total = verdicts.reduce((n, v) => n + v.compared, 0);
      console.log(ok ? `identical: ${total} records in ${verdicts.length} partitions` : `NOT identical: see the partitions marked DIFFERENT`);
    }
    return ok ? EXIT_OK : EXIT_RUNTIME;
  },
};
