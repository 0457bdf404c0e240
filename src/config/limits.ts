/**
 * Limits on the shape of a migration.yaml, far beyond any real one, so that hostile or broken
 * files end in one positioned error instead of seconds of work or a stack overflow: how deep
 * values nest, how many keys a mapping has, how many items a list has.
 */
import { Lexer, isMap, isSeq, isPair, type Node } from "yaml";
import { error, type Issue, type Path } from "./issues.ts";
import { keyOf, type YamlSource } from "./yaml.ts";

/** A real migration.yaml nests 5 or 6 levels deep. */
export const MAX_DEPTH = 64;
/** Keys in one mapping and items in one list (topics, groups): more than any cluster has. */
export const MAX_ENTRIES = 200_000;

const n = (v: number) => v.toLocaleString("en-US");
const tooDeep = `values nest deeper than the limit of ${MAX_DEPTH} levels: flatten them`;

/** Markers yaml's lexer emits that are not text of the file. */
const MARKERS = new Set(["\x02", "\x18", "\x1f"]);

/**
 * The offset of the first flow collection (`[` or `{`) opened more than MAX_DEPTH deep, from yaml's
 * lexer alone: its parser takes time that grows faster than the depth and overflows the stack
 * (a 40,000-deep `[[[...]]]` took 12 s), so this runs before it.
 */
export function flowTooDeep(text: string): number | undefined {
  let offset = 0;
  let depth = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === "[" || token === "{") {
      depth += 1;
      if (depth > MAX_DEPTH) return offset;
    } else if (token === "]" || token === "}") depth = Math.max(0, depth - 1);
    if (!MARKERS.has(token)) offset += token.length;
  }
  return undefined;
}

export function flowDepthIssue(offset: number, position: (offset: number) => { line: number; col: number }): Issue {
  const { line, col } = position(offset);
  return { ...error([], tooDeep), keyword: "limit", line, column: col };
}

/** The first value nested beyond MAX_DEPTH, and every mapping or list beyond MAX_ENTRIES. */
export function shapeIssues(source: YamlSource): Issue[] {
  const issues: Issue[] = [];
  const at = (node: Node) => {
    const { line, col } = source.lines.linePos(node.range?.[0] ?? 0);
    return { line, column: col };
  };
  let deep = false;
  const walk = (node: unknown, path: Path, depth: number) => {
    if (!isMap(node) && !isSeq(node)) return;
    if (depth > MAX_DEPTH) {
      if (!deep) issues.push({ ...error(path, tooDeep), keyword: "limit", ...at(node) });
      deep = true;
      return;
    }
    const what = isMap(node) ? "keys" : "items";
    if (node.items.length > MAX_ENTRIES) issues.push({ ...error(path, `${n(node.items.length)} ${what}, beyond the limit of ${n(MAX_ENTRIES)}: split the file`), keyword: "limit", ...at(node) });
    if (isMap(node)) for (const pair of node.items) walk(pair.value, [...path, isPair(pair) ? keyOf(pair) : "?"], depth + 1);
    else node.items.forEach((item, i) => walk(item, [...path, i], depth + 1));
  };
  walk(source.doc.contents, [], 1);
  return issues;
}
