import { stringify } from "yaml";
import type { Command } from "./command.ts";
import { fileArg, parseArgs, type ArgSpec } from "./args.ts";
import { validateJson } from "./validate-json.ts";
import { loadForCommand } from "./load-config.ts";
import { plainConfig } from "../config/plain.ts";
import { formatBytes } from "../config/sizes.ts";
import { patternText } from "../config/select.ts";
import type { MigrationConfig, Selection } from "../config/types.ts";

const usage = `klink validate [FILE] [--print] [--json]

Checks a migration.yaml without connecting to anything: YAML syntax, every key and value against
klink's schema (\`klink schema\`), each plugin's options against the plugin's schema, \${env:...}
and \${file:...} references, and settings that contradict each other. Every problem is printed,
as FILE:LINE:COLUMN: PATH: MESSAGE. Nothing is created (not even the state file).
FILE defaults to ./migration.yaml.

Options:
  --print   print the resolved configuration (defaults filled in, secrets redacted) as YAML
  --json    print the verdict as JSON (stdout): {file, valid, errors, warnings, config}, config
            resolved as with --print; with --json the errors are not printed on stderr

Exit codes: 0 valid, 1 invalid.`;

const spec: ArgSpec = { flags: ["--print", "--json"], positionals: ["[FILE]"] };

export const validate: Command = {
  name: "validate",
  summary: "check a migration.yaml (all errors at once, with line and column)",
  usage,
  spec,
  async run(args) {
    const { positionals, flags } = parseArgs(args, { ...spec, usage });
    const file = fileArg(positionals);
    if (flags.has("--json")) return validateJson(file);
    const loaded = await loadForCommand("validate", file);
    if (typeof loaded === "number") return loaded;
    const { config } = loaded;
    if (flags.has("--print")) console.log(config.secrets.redact(stringify(plainConfig(config))).trimEnd());
    else console.log(config.secrets.redact(summary(file, config)));
    return 0;
  },
};

function summary(file: string, c: MigrationConfig): string {
  const auth = (role: "source" | "target") => {
    const a = c.clusters[role].auth;
    return a ? `, auth ${a.ref}` : "";
  };
  return [
    `${file}: valid`,
    `  source   ${c.clusters.source.bootstrap.join(",")}${auth("source")}`,
    `  target   ${c.clusters.target.bootstrap.join(",")}${auth("target")}`,
    `  topics   ${describeSelection(c.link.topics)}; start ${startText(c)}, offsets ${c.link.defaults.offsets}${Object.keys(c.link.overrides).length ? `, ${Object.keys(c.link.overrides).length} override(s)` : ""}`,
    `  groups   ${describeSelection(c.groups) || "none"}`,
    `  cutover  ${c.cutover.ref}`,
    `  storage  ${c.storage.ref}`,
    `  status   http://${c.status.listen}`,
    `  limits   ${formatBytes(c.limits.inFlightBytes)} in flight, ${formatBytes(c.limits.memoryBytes)} memory`,
  ].join("\n");
}

function describeSelection(s: Selection): string {
  const parts: string[] = [];
  if (s.names.length) parts.push(s.names.join(", "));
  if (s.patterns.length) parts.push(`matching ${s.patterns.map((r) => patternText(r)).join(", ")}`);
  if (s.exclude.length) parts.push(`except ${s.exclude.map((r) => patternText(r)).join(", ")}`);
  return parts.join("; ");
}

function startText(c: MigrationConfig): string {
  const s = c.link.defaults.start;
  return s.kind === "timestamp" ? new Date(s.timestampMs).toISOString() : s.kind;
}
