/**
 * Where plugins come from: the built-ins below (one line each), or a user's module given by path
 * in migration.yaml, imported at run time (also from the compiled executable).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { RuntimeError, UserError } from "../src/errors.ts";
import { guardedInstance, whilePluginRuns } from "./exit-guard.ts";
import { firstLine, importPluginFile } from "./load-file.ts";
import { StateInUseError, type Instance, type Plugin, type PluginContext, type PluginKind } from "./plugin.ts";
import * as sqlite from "./storage/sqlite.ts";
import * as kafka from "./storage/kafka.ts";
import * as sasl from "./auth/sasl.ts";
import * as tls from "./auth/tls.ts";
import * as oauthbearer from "./auth/oauthbearer.ts";
import * as mskIam from "./auth/msk-iam.ts";
import * as gssapi from "./auth/gssapi.ts";
import * as manual from "./cutover/manual.ts";
import * as auto from "./cutover/auto.ts";

export const builtins: Plugin[] = [sasl, tls, oauthbearer, mskIam, gssapi, manual, auto, sqlite, kafka];

export const KINDS: PluginKind[] = ["auth", "cutover", "storage"];

export function builtinNames(kind: PluginKind): string[] {
  return builtins.filter((p) => p.kind === kind).map((p) => p.name);
}

/** A `plugin:` value that is a file rather than a built-in name. */
export function isPluginPath(ref: string): boolean {
  return /[/\\]/.test(ref) || /\.(ts|js|mjs|cjs)$/.test(ref);
}

/**
 * The plugin `ref` names: a built-in of `kind`, or the module at `ref` (relative to `dir`).
 * Returns a problem to report instead when there is none, or it is not a `kind` plugin.
 */
export async function findPlugin(ref: string, kind: PluginKind, dir: string): Promise<Plugin | { problem: string }> {
  if (!isPluginPath(ref)) {
    const plugin = builtins.find((p) => p.kind === kind && p.name === ref);
    if (plugin) return plugin;
    const other = builtins.find((p) => p.name === ref);
    if (other) return { problem: `'${ref}' is ${a(other.kind)} plugin, not ${a(kind)} plugin` };
    return { problem: `unknown ${kind} plugin '${ref}'` };
  }
  const path = resolve(dir, ref);
  if (!existsSync(path)) return { problem: `plugin file ${path} does not exist` };
  const loaded = await importPluginFile(path, ref);
  if ("problem" in loaded) return loaded;
  const module = loaded.module;
  // read each export once, here: a getter or a Proxy that throws is the plugin's error, not klink's
  let candidate: Record<string, unknown>;
  try {
    candidate = whilePluginRuns(`plugin ${ref}`, () => {
      const exported = (module.default && typeof module.default === "object" ? module.default : module) as Record<string, unknown>;
      const { name, kind, optionsSchema, check, create } = exported;
      return { name, kind, optionsSchema, check, create };
    });
  } catch (err) {
    return { problem: `${ref}: reading its exports failed: ${firstLine(err)}` };
  }
  const missing = (["name", "kind", "optionsSchema", "create"] as const).filter((k) => candidate[k] === undefined);
  if (missing.length) return { problem: `${ref} is not a klink plugin: it does not export ${missing.join(", ")} (see \`klink plugins --help\`)` };
  if (typeof candidate.create !== "function") return { problem: `${ref}: its export 'create' is not a function` };
  if (candidate.check !== undefined && typeof candidate.check !== "function") return { problem: `${ref}: its export 'check' is not a function` };
  if (typeof candidate.optionsSchema !== "object" || candidate.optionsSchema === null) return { problem: `${ref}: its export 'optionsSchema' is not a JSON Schema object` };
  if (candidate.kind !== kind) return { problem: `${ref} is ${a(String(candidate.kind))} plugin, not ${a(kind)} plugin` };
  const plugin = candidate as unknown as Plugin;
  const label = `plugin ${ref}`;
  const { create, check } = plugin;
  plugin.create = (options, context) => whilePluginRuns(label, () => create(options, context));
  if (check) plugin.check = (options, context) => whilePluginRuns(label, () => check(options, context));
  userFiles.set(plugin, ref);
  return plugin;
}

/** User plugins and the file each came from (as migration.yaml names it). */
const userFiles = new WeakMap<Plugin, string>();

const a = (kind: string) => (/^[aeiou]/.test(kind) ? `an ${kind}` : `a ${kind}`);

/** A plugin's start-up failed: the message is its own, without a stack trace (exit code 1). */
export class PluginStartError extends UserError {
  override name = "PluginStartError";
}

/** Creates the plugin instance; a throw becomes a PluginStartError naming the plugin and where it is configured. */
export async function startPlugin<K extends PluginKind>(plugin: Plugin<K>, options: unknown, context: PluginContext, where: string): Promise<Instance<K>> {
  const file = userFiles.get(plugin);
  const named = `${plugin.kind} plugin ${plugin.name} (${where}${file ? `, ${file}` : ""})`;
  let instance: Instance<K>;
  try {
    instance = await plugin.create(options, context);
  } catch (err) {
    if (err instanceof StateInUseError || err instanceof RuntimeError) throw err; // not a mistake in the file: another instance runs, a disk is full
    throw new PluginStartError(`${named} failed to start: ${firstLine(err)}`);
  }
  const wrong = shapeProblem(plugin.kind, instance);
  if (wrong) throw new PluginStartError(`${named}: create() returned ${wrong}`);
  return file ? guardedInstance(`plugin ${file}`, instance) : instance;
}

/** What is wrong with what create() returned, for a plugin of `kind`, or undefined when nothing is. */
function shapeProblem(kind: PluginKind, instance: unknown): string | undefined {
  if (instance === null || typeof instance !== "object") return `${instance === null ? "null" : typeof instance}, not an object: return the plugin instance (see \`klink plugins --help\`)`;
  const methods: Record<PluginKind, string[]> = {
    auth: [],
    cutover: ["handOff", "promote"],
    storage: ["write", "get", "topics", "groups", "partitions", "seek", "last", "offsetMap", "close"],
  };
  const fields = instance as Record<string, unknown>;
  const missing = methods[kind].filter((m) => typeof fields[m] !== "function");
  if (kind === "auth" && (fields.properties === null || typeof fields.properties !== "object")) missing.push("properties (an object of librdkafka properties)");
  return missing.length ? `an object without ${missing.join(", ")}` : undefined;
}
