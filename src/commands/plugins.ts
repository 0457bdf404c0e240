import { stringify } from "yaml";
import type { Command } from "./command.ts";
import { UserError } from "../errors.ts";
import { parseArgs, type ArgSpec } from "./args.ts";
import { builtins, findPlugin, isPluginPath, KINDS } from "../../plugins/registry.ts";
import type { Plugin } from "../../plugins/plugin.ts";
import type { JsonSchema } from "../config/schema.ts";
import { didYouMean } from "../config/suggest.ts";

const usage = `klink plugins [NAME | PATH] [--json]

Lists klink's plugins with their options, defaults and examples, all read from each plugin's
own JSON Schema. NAME shows one built-in; PATH (./my-plugin.ts) shows your own plugin's.

Writing a plugin: a .ts or .js module that exports
  name           how migration.yaml names it
  kind           "auth" | "cutover" | "storage"
  optionsSchema  a JSON Schema of its options (descriptions, defaults, examples; writeOnly: true
                 marks a secret)
  check          optional: (options, context) => [{ path, message }] for checks a schema cannot do
  create         (options, context) => the instance (see plugins/plugin.ts for each kind's interface)
and is named in migration.yaml by its path, relative to the YAML: \`plugin: ./plugins/vault-auth.ts\`.

Options:
  --json   the plugins and their schemas as JSON`;

const spec: ArgSpec = { flags: ["--json"], positionals: ["[NAME|PATH]"] };

export const plugins: Command = {
  name: "plugins",
  summary: "list plugins with their options, defaults and examples",
  usage,
  spec,
  async run(args) {
    const { positionals, flags } = parseArgs(args, { ...spec, usage });
    const chosen = positionals[0] ? [await pick(positionals[0])] : builtins;
    if (flags.has("--json")) {
      console.log(JSON.stringify(chosen.map((p) => ({ name: p.name, kind: p.kind, optionsSchema: p.optionsSchema })), null, 2));
      return 0;
    }
    console.log(chosen.map(describePlugin).join("\n\n"));
    return 0;
  },
};

async function pick(ref: string): Promise<Plugin> {
  if (!isPluginPath(ref)) {
    const found = builtins.find((p) => p.name === ref || `${p.kind}/${p.name}` === ref);
    if (!found) throw new UserError(`no built-in plugin '${ref}'${didYouMean(ref, builtins.map((p) => p.name))}; built-ins: ${builtins.map((p) => p.name).join(", ")}`);
    return found;
  }
  const problems: string[] = [];
  for (const kind of KINDS) {
    const found = await findPlugin(ref, kind, process.cwd());
    if (!("problem" in found)) return found;
    problems.push(found.problem);
  }
  throw new UserError(problems.find((p) => !/ plugin, not /.test(p)) ?? problems[0]!);
}

/** The plugin's reference text, from its schema. */
export function describePlugin(p: Plugin): string {
  const s = p.optionsSchema;
  const lines = [`${p.kind}/${p.name}: ${String(s.description ?? "")}`];
  const options = optionLines(s, "  ");
  lines.push(options.length ? "  options:" : "  options: none", ...options.map((l) => `  ${l}`));
  const examples = (s.examples as unknown[] | undefined) ?? [];
  for (const example of examples.filter((e) => Object.keys(e as object).length > 0).slice(0, 2)) {
    const at = p.kind === "auth" ? { clusters: { source: { auth: { plugin: p.name, options: example } } } } : { [p.kind]: { plugin: p.name, options: example } };
    lines.push("  example:", ...stringify(at).trimEnd().split("\n").map((l) => `    ${l}`));
  }
  return lines.join("\n");
}

function optionLines(schema: JsonSchema, indent: string): string[] {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const width = Math.max(0, ...Object.keys(props).map((k) => k.length));
  const out: string[] = [];
  for (const [key, prop] of Object.entries(props)) {
    const facts = [typeText(prop)];
    if (required.has(key)) facts.push("required");
    if (prop.writeOnly) facts.push("secret");
    if (prop.default !== undefined) facts.push(`default: ${JSON.stringify(prop.default)}`);
    out.push(`${indent}${key.padEnd(width)}  ${facts.join(", ")}`);
    if (prop.description) out.push(`${indent}${" ".repeat(width)}  ${String(prop.description)}`);
    // nested options, unless described elsewhere (a titled schema, e.g. the options of auth/tls)
    const nested = [prop, ...((prop.oneOf as JsonSchema[]) ?? [])].find((b) => b.properties && !b.title);
    if (nested) out.push(...optionLines(nested, `${indent}${" ".repeat(width)}    `));
  }
  return out;
}

function typeText(s: JsonSchema): string {
  if (Array.isArray(s.enum)) return s.enum.join(" | ");
  if (Array.isArray(s.oneOf)) return (s.oneOf as JsonSchema[]).map(typeText).join(" | ");
  if (Array.isArray(s.type)) return s.type.join(" | ");
  if (s.title) return String(s.title);
  if (s.type === "object") return "options";
  return String(s.type ?? "any");
}
