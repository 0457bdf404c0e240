import type { Command } from "./command.ts";
import { EXIT_RUNTIME, EXIT_USER } from "./command.ts";
import { UserError } from "../errors.ts";
import { fileArg, parseArgs, type ArgSpec } from "./args.ts";
import { loadForCommand } from "./load-config.ts";
import { clientSettings } from "../config/clients.ts";
import type { Store } from "../state/store.ts";
import { KafkaError } from "../rdkafka/errors.ts";
import type { Admin } from "../rdkafka/admin.ts";
import { buildPlan } from "../plan/build.ts";
import { openStore } from "../link/session.ts";
import { connectAdmin } from "../plan/connect.ts";
import { renderPlan } from "../plan/render.ts";
import { checkSource } from "../plan/source-check.ts";

const usage = `klink plan [FILE] [--json]

Connects to both clusters read-only and says what \`klink run FILE\` would do, before it does:
for each linked topic its partitions, the source's log start and end offsets, the target's state
(missing, empty, linked by klink, or holding foreign data), the offset mode each partition gets
and why (exact, or translate e.g. when its prefix is longer than link.prefixFillLimit), topics to
create and with which configs, the configs of existing target topics that differ from the
source's (config drift, and whether run syncs them: link.configSync); the consumer groups found,
their state and protocol; with link.aclSync, the ACL bindings run would create on the target,
those only there, and what klink's own principal lacks (klink never grants itself anything);
and problems (partition count mismatch, foreign data, missing permissions, topic settings that
need care).
Nothing is written to either cluster, nor to klink's state. FILE defaults to ./migration.yaml.

Options:
  --json   print the plan as JSON

Exit codes: 0 the plan has no errors, 1 invalid FILE or the plan has errors (listed under
problems), 2 a cluster cannot be reached or refused klink's credentials.`;

const spec: ArgSpec = { flags: ["--json"], positionals: ["[FILE]"] };

export const plan: Command = {
  name: "plan",
  summary: "show what klink would do, read from both clusters (writes nothing)",
  usage,
  spec,
  async run(args) {
    const { positionals, flags } = parseArgs(args, { ...spec, usage });
    const file = fileArg(positionals);
    const loaded = await loadForCommand("plan", file);
    if (typeof loaded === "number") return loaded;
    const { config } = loaded;
    const redact = (s: string) => config.secrets.redact(s);
    const admins: Admin[] = [];
    let store: Store | null = null;
    try {
      store = await openStore(config, true);
      const connect = async (role: "source" | "target") => {
        const settings = await clientSettings(config, role, true);
        const { admin } = await connectAdmin(role, config.clusters[role].bootstrap.join(","), settings);
        admins.push(admin);
        return admin;
      };
      const source = await connect("source");
      const target = await connect("target");
      // a source too old to read at all: one line, before buildPlan fails on the first call it lacks
      const old = await checkSource(config, await clientSettings(config, "source", true));
      const fatal = old.problems.find((p) => p.severity === "error");
      if (fatal) {
        console.error(redact(`klink plan: ${fatal.subject}: ${fatal.message}`));
        return EXIT_USER;
      }
      const result = await buildPlan(config, { source, target }, store);
      result.clusters.source.kafka = old.release;
      result.problems.unshift(...old.problems);
      console.log(redact(flags.has("--json") ? JSON.stringify(result, null, 2) : renderPlan(result, file)));
      return result.problems.some((p) => p.severity === "error") ? EXIT_USER : 0;
    } catch (err) {
      if (!(err instanceof KafkaError) && !(err instanceof UserError)) throw err;
      console.error(redact(`klink plan: ${err.message}`));
      return err instanceof KafkaError ? EXIT_RUNTIME : EXIT_USER;
    } finally {
      for (const a of admins) a.close();
      await store?.close();
    }
  },
};
