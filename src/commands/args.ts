/** Command-line arguments of one sub-command: positionals, boolean flags, and `--name VALUE` options. */
import { UserError } from "../errors.ts";
import { didYouMean } from "../config/suggest.ts";

export interface Args {
  positionals: string[];
  flags: Set<string>;
  values: Map<string, string>;
}

/** `flags`: "--force" style; `options`: "--source" style, taking a value (`--source X` or `--source=X`). */
export function parseArgs(args: string[], spec: { flags?: string[]; options?: string[]; maxPositionals: number; usage: string }): Args {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const positionals: string[] = [];
  const known = [...(spec.flags ?? []), ...(spec.options ?? [])];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--") || arg === "--") {
      positionals.push(arg);
      continue;
    }
    const [name, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    if (spec.flags?.includes(name)) {
      // `--force=false` must not mean --force: a flag is given or left out, it takes no value
      if (inline !== undefined) throw new UserError(`${name} takes no value (got '${arg}'): give ${name} to turn it on, leave it out to keep it off`);
      flags.add(name);
    }
    else if (spec.options?.includes(name)) {
      const value = inline ?? args[++i];
      if (value === undefined || value.startsWith("--")) throw new UserError(`${name} needs a value\n\n${spec.usage}`);
      values.set(name, value);
    } else throw new UserError(`unknown option ${name}${didYouMean(name, known)}\n\n${spec.usage}`);
  }
  if (positionals.length > spec.maxPositionals) throw new UserError(`unexpected argument '${positionals[spec.maxPositionals]}'\n\n${spec.usage}`);
  return { positionals, flags, values };
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
