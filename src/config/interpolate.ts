/**
 * `${env:NAME}` and `${file:PATH}` in string values: replaced in the YAML document itself, so
 * later errors still point at the right place. `$${` writes a literal `${`. A relative PATH is
 * resolved against the YAML file's directory; the file's final newline is dropped.
 * Every value put in is a secret (see secrets.ts), except bootstrap servers.
 */
import { resolve } from "node:path";
import { isMap, isScalar, isSeq, type Node } from "yaml";
import { error, type Issue, type Path } from "./issues.ts";
import { MiB, readBounded, ReadProblem } from "./read-bounded.ts";
import type { Secrets } from "./secrets.ts";
import { keyOf, type YamlSource } from "./yaml.ts";

export type Env = Record<string, string | undefined>;

/** A certificate, a key or a password is far smaller; a device or a runaway file is refused. */
export const MAX_FILE_REFERENCE_BYTES = MiB;

const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Values at these paths are shown as they are (addresses that errors must be able to name). */
function isPublic(path: Path): boolean {
  return path[0] === "clusters" && path[2] === "bootstrap";
}

/**
 * Replaces references in every string scalar of `source`. Returns the issues, the paths whose
 * value could not be resolved (schema errors about those would only repeat the problem), and
 * the paths of every value that had a reference.
 */
export function interpolate(source: YamlSource, dir: string, env: Env, secrets: Secrets): { issues: Issue[]; failed: Path[]; interpolated: Path[] } {
  const issues: Issue[] = [];
  const failed: Path[] = [];
  const interpolated: Path[] = [];
  const walk = (node: unknown, path: Path) => {
    if (isMap(node)) for (const pair of node.items) walk(pair.value, [...path, keyOf(pair)]);
    else if (isSeq(node)) node.items.forEach((item, i) => walk(item, [...path, i]));
    else if (isScalar(node) && typeof node.value === "string" && node.value.includes("${")) {
      const problems: string[] = [];
      const value = node.value.replace(REFERENCE, (whole, body: string | undefined) => {
        if (whole === "$${") return "${";
        if (body === undefined) return problems.push("'${' without a closing '}'"), "";
        const resolved = resolveReference(body, dir, env);
        if (typeof resolved !== "string") return problems.push(resolved.problem), "";
        if (!isPublic(path)) secrets.add(resolved);
        // an address list is one line: of a file with more (the wrong file?) only the first is shown
        else for (const line of resolved.split(/\r?\n/).slice(1)) secrets.add(line);
        return resolved;
      });
      (node as Node & { value: string }).value = value;
      interpolated.push(path);
      if (problems.length) {
        failed.push(path);
        for (const p of problems) issues.push(error(path, p));
      }
    }
  };
  walk(source.doc.contents, []);
  return { issues, failed, interpolated };
}

function resolveReference(body: string, dir: string, env: Env): string | { problem: string } {
  const colon = body.indexOf(":");
  const kind = colon < 0 ? "" : body.slice(0, colon);
  const arg = colon < 0 ? body : body.slice(colon + 1);
  if (kind === "env") {
    if (!ENV_NAME.test(arg)) return { problem: `'\${env:${arg}}': '${arg}' is not an environment variable name` };
    const value = env[arg];
    if (value === undefined) return { problem: `environment variable ${arg} is not set (used as \${env:${arg}})` };
    return value;
  }
  if (kind === "file") {
    if (!arg) return { problem: "'${file:}' names no file" };
    const path = resolve(dir, arg);
    try {
      return readBounded(path, MAX_FILE_REFERENCE_BYTES, "the 1 MiB limit for a ${file:} value").replace(/\r?\n$/, "");
    } catch (err) {
      if (!(err instanceof ReadProblem)) throw err;
      return { problem: `cannot read ${path} (used as \${file:${arg}}): ${err.message}` };
    }
  }
  return { problem: `'\${${body}}' is not a reference klink knows: write \${env:NAME} or \${file:PATH}` };
}
