/**
 * Reads a migration.yaml into a MigrationConfig, or fails with every problem at once:
 *   1. YAML syntax and duplicate keys (with positions);
 *   2. ${env:...} / ${file:...} references (their values become secrets);
 *   3. the JSON Schema (defaults filled in);
 *   4. each plugin: found (built-in or file), its options against its own schema, its checks;
 *   5. checks across values (checks.ts).
 * Nothing is created or connected to: plugins are found and checked, not started.
 */
import { dirname, resolve } from "node:path";
import { UserError } from "../errors.ts";
import { isSecretKey } from "../rdkafka/config.ts";
import type { Plugin, PluginContext, PluginKind } from "../../plugins/plugin.ts";
import { builtinNames, findPlugin, isPluginPath } from "../../plugins/registry.ts";
import { semanticIssues, literalSecretWarnings } from "./checks.ts";
import { interpolate, type Env } from "./interpolate.ts";
import { MiB, readBounded, ReadProblem } from "./read-bounded.ts";
import { ConfigError, error, formatIssue, sortIssues, type Issue, type Path } from "./issues.ts";
import { migrationSchema, type JsonSchema } from "./schema.ts";
import { Secrets } from "./secrets.ts";
import { didYouMean } from "./suggest.ts";
import type { MigrationConfig, PluginUse } from "./types.ts";
import { compileSchema, schemaIssues } from "./validate.ts";
import { resolveConfig } from "./resolve.ts";
import { locate, parseYaml } from "./yaml.ts";

export interface LoadOptions {
  /** Environment for ${env:...} (default: process.env). */
  env?: Env;
  /** "Now" for the future-timestamp check, in ms (default: Date.now()). */
  now?: number;
}

export interface Loaded {
  config: MigrationConfig;
  /** Formatted and redacted warnings (literal secrets, a status endpoint beyond loopback). */
  warnings: string[];
}

type Obj = Record<string, any>;

/** Larger than any real migration.yaml by far; reading stops here (a device, a runaway file). */
export const MAX_CONFIG_BYTES = 16 * MiB;

/** Throws ConfigError (all problems, positioned, redacted) or UserError (file unreadable). */
export async function loadConfig(file: string, options: LoadOptions = {}): Promise<Loaded> {
  const path = resolve(file);
  let text: string;
  try {
    text = readBounded(path, MAX_CONFIG_BYTES, "the 16 MiB limit for a migration.yaml");
  } catch (err) {
    if (!(err instanceof ReadProblem)) throw err;
    throw new UserError(`cannot read ${file}: ${err.code === "ENOENT" ? "no such file (create one with `klink init`)" : err.message}`);
  }
  const dir = dirname(path);
  const secrets = new Secrets();
  const finish = (issues: Issue[]): string[] => sortIssues(issues).map((i) => secrets.redact(formatIssue(file, i)));

  const { source, issues: syntax } = parseYaml(file, text);
  // syntax errors and limits end the checks: what follows would work on a broken or oversized document
  if (syntax.some((i) => (i.line !== undefined && i.path.length === 0) || i.keyword === "limit")) throw new ConfigError(file, finish(syntax), syntax.length);

  const refs = interpolate(source, dir, options.env ?? process.env, secrets);
  // parseYaml has bounded what aliases add (MAX_ALIAS_VALUES), so yaml's own cruder count is off
  let data: unknown;
  try {
    data = source.doc.toJS({ maxAliasCount: -1 });
  } catch (err) {
    throw new ConfigError(file, [secrets.redact(formatIssue(file, error([], `cannot read the YAML: ${(err as Error).message}`)))], 1);
  }
  const raw = structuredClone(data);
  // values that could not be read, and keys defined twice: other errors about them are consequences
  const failed = [...refs.failed, ...syntax.map((i) => i.path)].map((p) => JSON.stringify(p));
  const underFailed = (p: Path) => failed.some((f) => JSON.stringify(p).startsWith(f.slice(0, -1)));

  const found: Issue[] = [];
  const interpolated = new Set(refs.interpolated.map((p) => JSON.stringify(p)));
  found.push(...typedSchemaIssues(migrationSchema, data, [], "", interpolated, secrets));
  const context: PluginContext = { configFile: path, configDir: dir, linkName: String((data as Obj)?.link?.name ?? ""), readOnly: true };
  const uses = await findPlugins(data as Obj, context, found, interpolated, secrets);
  found.push(...semanticIssues(raw, data, options.now ?? Date.now()));
  const issues: Issue[] = [...syntax, ...refs.issues, ...found.filter((i) => !underFailed(i.path))];

  // secrets: plugin options marked writeOnly, librdkafka properties with secret names
  const secretPaths: Path[] = [];
  for (const use of uses) secretPaths.push(...secretsBySchema(use.plugin.optionsSchema, use.options, [...use.path, "options"]));
  for (const role of ["source", "target"]) {
    for (const [k, v] of Object.entries((data as Obj)?.clusters?.[role]?.librdkafka ?? {})) if (isSecretKey(k) && typeof v === "string") secretPaths.push(["clusters", role, "librdkafka", k]);
  }
  for (const p of secretPaths) secrets.add(String(valueAt(data, p)));
  issues.push(...literalSecretWarnings(secretPaths, interpolated));

  for (const issue of issues) if (issue.line === undefined) Object.assign(issue, locate(source, issue));
  const errors = issues.filter((i) => i.severity === "error");
  if (errors.length) throw new ConfigError(file, finish(issues), errors.length);
  const warnings = finish(issues.filter((i) => i.severity === "warning"));
  return { config: resolveConfig(data as Obj, path, secrets, uses), warnings };
}

/** Finds every plugin the file names and validates its options; returns the usable ones. */
async function findPlugins(data: Obj, context: PluginContext, issues: Issue[], interpolated: Set<string>, secrets: Secrets): Promise<Array<PluginUse<PluginKind>>> {
  const refs: Array<[PluginKind, Path, "source" | "target" | undefined]> = [
    ["auth", ["clusters", "source", "auth"], "source"],
    ["auth", ["clusters", "target", "auth"], "target"],
    ["cutover", ["cutover"], undefined],
    ["storage", ["storage"], undefined],
  ];
  const uses: Array<PluginUse<PluginKind>> = [];
  for (const [kind, path, cluster] of refs) {
    const ref = valueAt(data, path) as Obj | undefined;
    if (!ref || typeof ref !== "object" || typeof ref.plugin !== "string" || !ref.plugin) continue;
    const found = await findPlugin(ref.plugin, kind, context.configDir);
    if ("problem" in found) {
      const names = builtinNames(kind);
      const hint = isPluginPath(ref.plugin) ? "" : didYouMean(ref.plugin, names) || `; built-in ${kind} plugins: ${names.join(", ")}`;
      issues.push(error([...path, "plugin"], found.problem + hint));
      continue;
    }
    const options = ref.options && typeof ref.options === "object" && !Array.isArray(ref.options) ? ref.options : {};
    const label = `${found.name} plugin: `;
    let problems: Issue[];
    try {
      compileSchema(found.optionsSchema);
      problems = typedSchemaIssues(found.optionsSchema, options, [...path, "options"], label, interpolated, secrets);
    } catch (err) {
      issues.push(error([...path, "plugin"], `${ref.plugin}: its optionsSchema is not a valid JSON Schema: ${(err as Error).message}`));
      continue;
    }
    if (problems.length === 0 && found.check) {
      try {
        problems = found.check(options, { ...context, cluster }).map((p) => error([...path, "options", ...p.path], label + p.message));
      } catch (err) {
        problems = [error([...path, "plugin"], `${label}its option check failed: ${(err as Error).message}`)];
      }
    }
    issues.push(...problems);
    uses.push({ plugin: found as Plugin<PluginKind>, ref: ref.plugin, options, path });
  }
  return uses;
}

/**
 * Schema issues of `data` (at `base` in the file). An interpolated value is text; where the schema
 * wants a number or a boolean and the text is one, it becomes one: `replicationFactor: ${env:RF}`.
 * Such values are settings, not credentials: they are not redacted.
 */
function typedSchemaIssues(schema: JsonSchema, data: unknown, base: Path, label: string, interpolated: Set<string>, secrets: Secrets): Issue[] {
  const issues = schemaIssues(schema, data, base, label);
  let converted = false;
  for (const issue of issues) {
    if (issue.keyword !== "type" || !interpolated.has(JSON.stringify(issue.path))) continue;
    const relative = issue.path.slice(base.length);
    const parent = valueAt(data, relative.slice(0, -1)) as Obj | undefined;
    const key = relative.at(-1);
    const text = key === undefined || !parent ? undefined : parent[key];
    if (typeof text !== "string") continue;
    const typed = /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text === "true" ? true : text === "false" ? false : undefined;
    if (typed === undefined) continue;
    parent![key!] = typed;
    secrets.remove(text); // a number or a switch is a setting, not a credential
    converted = true;
  }
  return converted ? schemaIssues(schema, data, base, label) : issues;
}

/** Paths of strings the schema marks writeOnly (or, where it says nothing, under secret-looking keys). */
function secretsBySchema(schema: JsonSchema, data: unknown, path: Path): Path[] {
  const out = new Map<string, Path>();
  const visit = (s: JsonSchema | undefined, d: unknown, p: Path) => {
    if (!s || typeof s !== "object") return;
    if (s.writeOnly === true && typeof d === "string") out.set(JSON.stringify(p), p);
    if (d && typeof d === "object" && !Array.isArray(d)) {
      const props = (s.properties ?? {}) as Record<string, JsonSchema>;
      for (const [k, v] of Object.entries(d)) {
        if (props[k]) visit(props[k], v, [...p, k]);
        else if (typeof v === "string" && isSecretKey(k) && k !== "key") out.set(JSON.stringify([...p, k]), [...p, k]);
      }
    }
    for (const branch of [...((s.oneOf as JsonSchema[]) ?? []), ...((s.anyOf as JsonSchema[]) ?? []), ...((s.allOf as JsonSchema[]) ?? [])]) visit(branch, d, p);
  };
  visit(schema, data, path);
  return [...out.values()];
}

function valueAt(data: unknown, path: Path): unknown {
  let v = data;
  for (const part of path) v = v && typeof v === "object" ? (v as Obj)[part] : undefined;
  return v;
}
