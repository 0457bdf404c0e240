import { existsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import example from "../../migration.yaml" with { type: "text" };
import type { Command } from "./command.ts";
import { fileError, UserError } from "../errors.ts";
import { fileArg, parseArgs, type ArgSpec } from "./args.ts";
import { publishedSchema } from "../config/published-schema.ts";
import { SCHEMA_URL, withPublishedSchemaLine } from "../config/schema-url.ts";

const usage = `klink init [FILE] [--source SERVERS] [--target SERVERS] [--name NAME] [--force] [--json]

Writes a commented migration.yaml to start from (FILE defaults to ./migration.yaml): the same as
klink's example, with your bootstrap servers filled in, and migration.schema.json beside it so
editors complete and check the file (its first line points them there; the second offers the
schema's published URL instead). Without --source / --target the file reads them from
\${env:KLINK_SOURCE_BOOTSTRAP} and \${env:KLINK_TARGET_BOOTSTRAP}.

Options:
  --source SERVERS   the source cluster's bootstrap servers, HOST:PORT[,HOST:PORT...]
  --target SERVERS   the target cluster's
  --name NAME        link.name, the migration's name (default: example-migration)
  --force            overwrite FILE (and migration.schema.json) if they exist
  --json             print the files written as JSON: {written: [...], schemaUrl}`;

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/;

const spec: ArgSpec = { flags: ["--force", "--json"], options: ["--source", "--target", "--name"], positionals: ["[FILE]"] };

export const init: Command = {
  name: "init",
  summary: "write a commented migration.yaml to start from",
  usage,
  spec,
  async run(args) {
    const { positionals, flags, values } = parseArgs(args, { ...spec, usage });
    const file = fileArg(positionals);
    const force = flags.has("--force");
    if (existsSync(file) && !force) throw new UserError(`${file} exists: pass --force to overwrite it`);
    let text = withPublishedSchemaLine(example);
    for (const role of ["source", "target"] as const) {
      const servers = values.get(`--${role}`);
      if (servers === undefined) continue;
      const bad = servers.split(",").map((s) => s.trim()).find((s) => !HOST_PORT.test(s));
      if (bad !== undefined) throw new UserError(`--${role}: '${bad}' is not HOST:PORT`);
      text = text.replace(`\${env:KLINK_${role.toUpperCase()}_BOOTSTRAP}`, yamlScalar(servers));
    }
    const name = values.get("--name");
    if (name !== undefined) {
      if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) throw new UserError(`--name: '${name}' may only hold letters, digits, '.', '_' and '-'`);
      text = text.replace("name: example-migration", `name: ${name}`);
    }
    write(file, text);
    const schemaFile = join(dirname(file), "migration.schema.json");
    const writeSchema = force || !existsSync(schemaFile);
    if (writeSchema) write(schemaFile, JSON.stringify(publishedSchema(), null, 2) + "\n");
    if (flags.has("--json")) {
      console.log(JSON.stringify({ written: writeSchema ? [file, schemaFile] : [file], schemaUrl: SCHEMA_URL }));
      return 0;
    }
    console.log(
      `wrote ${file}${writeSchema ? ` and ${schemaFile}` : ""}\n` +
        `next: choose link.topics and groups in ${file}, then\n  klink validate ${file}\n  klink plan ${file}`,
    );
    return 0;
  },
};

function write(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (err) {
    throw fileError(err, "write", path);
  }
}

function yamlScalar(s: string): string {
  return /^[A-Za-z0-9._:,-]+$/.test(s) ? s : JSON.stringify(s);
}
