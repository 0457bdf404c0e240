import type { Command } from "./command.ts";
import { KLINK_COMMIT, KLINK_VERSION } from "../version.ts";
import { librdkafkaVersion } from "../rdkafka/library.ts";
import { parseArgs, type ArgSpec } from "./args.ts";

const usage = `klink version [--json]

Prints klink's version, the git commit it was built from ("+dirty": with local changes)
and the version of the embedded librdkafka.

Options:
  --json   print them as JSON: {version, commit, librdkafka}`;

const spec: ArgSpec = { flags: ["--json"], positionals: [] };

export const version: Command = {
  name: "version",
  summary: "print klink's version, its git commit and librdkafka's version",
  usage,
  spec,
  async run(args) {
    const { flags } = parseArgs(args, { ...spec, usage });
    if (flags.has("--json")) console.log(JSON.stringify({ version: KLINK_VERSION, commit: KLINK_COMMIT, librdkafka: librdkafkaVersion() }));
    else console.log(`klink ${KLINK_VERSION} (commit ${KLINK_COMMIT}, librdkafka ${librdkafkaVersion()})`);
    return 0;
  },
};
