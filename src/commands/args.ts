/**
 * Command-line arguments of one sub-command, read by node:util's parseArgs (`--name VALUE`,
 * `--name=VALUE`, `-v`, `--` ending the options) with klink's own checks on top: a flag takes no
 * value, an option needs one, an unknown option gets a did-you-mean, and each error is one line
 * that names the option. The same spec drives `klink completion`.
 */
import { parseArgs as parseTokens } from "node:util";
import { UserError } from "../errors.ts";
import { didYouMean } from "../config/suggest.ts";
import { LOG_FLAGS, takeLogOptions } from "./log-options.ts";

export interface ArgSpec {
  /** Flags that take no value: "--force" (or "-v"). */
  flags?: string[];
  /** Options that take a value: "--source" (`--source X` or `--source=X`). */
  options?: string[];
  /** The values an option takes, when they are few (shell completion offers them). */
  values?: Record<string, string[]>;
  /** The positional arguments, in order, as the usage names them: "[FILE]" (optional, defaults to ./migration.yaml), "FILE", "GROUP". */
  positionals: string[];
  /** Words the first argument is one of (`offsets translate|export`, `completion bash|zsh|fish`); the spec applies after it. */
  words?: string[];
  /** --log-format, -v and -q (log-options.ts). */
  log?: boolean;
}

export interface Args {
  positionals: string[];
  flags: Set<string>;
  values: Map<string, string>;
}

/** Every option of `spec`, as typed: flags and options, logging ones included. */
export function knownOptions(spec: ArgSpec): string[] {
  return [...(spec.flags ?? []), ...(spec.options ?? []), ...(spec.log ? LOG_FLAGS : [])];
}

export function parseArgs(args: string[], spec: ArgSpec & { usage: string }): Args {
  if (spec.log) args = takeLogOptions(args);
  const type = (name: string, t: "boolean" | "string") => [name.replace(/^--?/, ""), name.startsWith("--") ? { type: t } : { type: t, short: name.slice(1) }] as const;
  const options = Object.fromEntries([...(spec.flags ?? []).map((f) => type(f, "boolean")), ...(spec.options ?? []).map((o) => type(o, "string"))]);
  // strict: false, so that klink words its own errors; the tokens say exactly what was typed
  const { tokens } = parseTokens({ args, options, strict: false, allowPositionals: true, tokens: true });
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === "positional") positionals.push(t.value);
    if (t.kind !== "option") continue;
    const name = t.rawName;
    if (spec.flags?.includes(name)) {
      // `--force=false` must not mean --force: a flag is given or left out, it takes no value
      if (t.value !== undefined) throw new UserError(`${name} takes no value (got '${args[t.index]}'): give ${name} to turn it on, leave it out to keep it off`);
      flags.add(name);
    } else if (spec.options?.includes(name)) {
      if (t.value === undefined || (!t.inlineValue && t.value.startsWith("--"))) throw new UserError(`${name} needs a value\n\n${spec.usage}`);
      values.set(name, t.value);
    } else throw new UserError(`unknown option ${name}${didYouMean(name, knownOptions(spec))}\n\n${spec.usage}`);
  }
  if (positionals.length > spec.positionals.length) throw new UserError(`unexpected argument '${positionals[spec.positionals.length]}'\n\n${spec.usage}`);
  return { positionals, flags, values };
}

/** The migration file: the first positional, or ./migration.yaml. */
export function fileArg(positionals: string[]): string {
  return positionals[0] ?? "migration.yaml";
}

/**
 * A non-negative integer given on the command line: digits only (no sign, blank, exponent or
 * fraction) and at most `max`, compared exactly, so nothing is rounded through floating point.
 */
export function parseCount(value: string, flag: string, max: number, limitName: string): number {
  if (!/^[0-9]+$/.test(value)) throw new UserError(`${flag} must be a non-negative integer (digits only), got '${value}'`);
  if (BigInt(value) > BigInt(max)) throw new UserError(`${flag} ${value} is too large: at most ${max} (${limitName})`);
  return Number(value);
}
