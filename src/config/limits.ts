/**
 * Limits on the shape of a migration.yaml, far beyond any real one, so that hostile or broken
 * files end in one positioned error instead of seconds of work or a stack overflow: how deep
 * values nest, how many keys a mapping has, how many items a list has. Nesting of [ ] and { } is
 * checked here on yaml's lexer, before its parser; yaml.ts checks the parsed document.
 */
import { Lexer } from "yaml";
import { error, type Issue } from "./issues.ts";

/** A real migration.yaml nests 5 or 6 levels deep. */
export const MAX_DEPTH = 64;
/** Keys in one mapping and items in one list (topics, groups): more than any cluster has. */
export const MAX_ENTRIES = 200_000;

export const tooDeep = `values nest deeper than the limit of ${MAX_DEPTH} levels: flatten them`;

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
