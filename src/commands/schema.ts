import type { Command } from "./command.ts";
import { parseArgs, type ArgSpec } from "./args.ts";
import { publishedSchema } from "../config/published-schema.ts";

const usage = `klink schema

Prints the JSON Schema (draft 2020-12) of migration.yaml, built-in plugins' options included.
Save it beside your file and point your editor at it for completion and checking:

  klink schema > migration.schema.json
  # first line of migration.yaml:
  # yaml-language-server: $schema=./migration.schema.json`;

const spec: ArgSpec = { positionals: [] };

export const schema: Command = {
  name: "schema",
  summary: "print the JSON Schema of migration.yaml (for editors)",
  usage,
  spec,
  async run(args) {
    parseArgs(args, { ...spec, usage });
    console.log(JSON.stringify(publishedSchema(), null, 2));
    return 0;
  },
};
