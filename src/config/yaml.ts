/**
 * migration.yaml as a YAML document that keeps source positions: syntax errors and duplicate
 * keys become issues, and any path into the data can be placed at a line and column.
 */
import { LineCounter, parseDocument, isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node, type Pair, type YAMLMap } from "yaml";
import { error, type Issue, type Path } from "./issues.ts";
import { flowDepthIssue, flowTooDeep, MAX_DEPTH, MAX_ENTRIES, tooDeep } from "./limits.ts";

export interface YamlSource {
  /** The file name as the user gave it (used in messages). */
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

/** Parses `text`. Syntax errors end the parse (the document is not used); duplicate keys do not. */
export function parseYaml(file: string, text: string): { source: YamlSource; issues: Issue[] } {
  const lines = new LineCounter();
  const deep = flowTooDeep(text);
  if (deep !== undefined) {
    lines.addNewLine(0);
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lines.addNewLine(i + 1);
    return { source: { file, doc: parseDocument(""), lines }, issues: [flowDepthIssue(deep, (o) => lines.linePos(o))] };
  }
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false });
  const source = { file, doc, lines };
  const issues: Issue[] = [];
  const lineTexts = doc.errors.length ? text.split("\n") : [];
  const seen = new Set<number>();
  for (const e of doc.errors) {
    const { line, col } = lines.linePos(errorOffset(text, e.code, e.message, e.pos[0]));
    // one error per line: the first, the others are usually its consequences
    if (seen.has(line)) continue;
    seen.add(line);
    const lineText = lineTexts[line - 1] ?? "";
    const hint = /[{[]/.test(lineText.slice(0, Math.max(0, lineText.lastIndexOf("${")))) ? " (inside { } or [ ], put a ${...} value in quotes)" : "";
    issues.push({ ...error([], syntaxMessage(e.code, e.message) + hint), line, column: col });
  }
  if (issues.length) return { source, issues };
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    return { source, issues: [{ ...error([], "the file is empty: start from `klink init` or the example migration.yaml"), line: 1, column: 1 }] };
  }
  const shape = shapeIssues(source);
  if (shape.length) return { source, issues: shape };
  const aliases = aliasIssues(source);
  return { source, issues: aliases.length ? aliases : duplicateKeys(source) };
}

/** The first value nested beyond MAX_DEPTH, and every mapping or list beyond MAX_ENTRIES. */
function shapeIssues(source: YamlSource): Issue[] {
  const issues: Issue[] = [];
  let deep = false;
  const walk = (node: unknown, path: Path, depth: number) => {
    if (!isMap(node) && !isSeq(node)) return;
    if (depth > MAX_DEPTH) {
      if (!deep) issues.push({ ...error(path, tooDeep), keyword: "limit", ...positionOf(source, node) });
      deep = true;
      return;
    }
    const what = isMap(node) ? "keys" : "items";
    if (node.items.length > MAX_ENTRIES) issues.push({ ...error(path, `${node.items.length.toLocaleString("en-US")} ${what}, beyond the limit of ${MAX_ENTRIES.toLocaleString("en-US")}: split the file`), keyword: "limit", ...positionOf(source, node) });
    if (isMap(node)) for (const pair of node.items) walk(pair.value, [...path, isPair(pair) ? keyOf(pair) : "?"], depth + 1);
    else node.items.forEach((item, i) => walk(item, [...path, i], depth + 1));
  };
  walk(source.doc.contents, [], 1);
  return issues;
}

/** How many values aliases may add to the file in all (each `*name` adds a copy of its anchor). */
export const MAX_ALIAS_VALUES = 10_000;

/**
 * Aliases that cannot be expanded safely: one naming no earlier anchor, one inside its own anchor,
 * and the one whose copies take the file beyond MAX_ALIAS_VALUES values (a "billion laughs").
 * Walks the document once, in order, as yaml resolves aliases (the last anchor before the alias).
 */
function aliasIssues(source: YamlSource): Issue[] {
  const anchors = new Map<string, Node>();
  const sizes = new Map<Node, number>(); // values in a node once its aliases are expanded
  let added = 0;
  let problem: Issue | undefined;
  const fail = (node: Node, message: string) => {
    problem ??= { ...error([], message), ...positionOf(source, node) };
    return 0;
  };
  const size = (node: unknown): number => {
    if (problem || !node || typeof node !== "object") return 1;
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (!target) return fail(node, `*${node.source}: no anchor &${node.source} is defined before this alias`);
      const copied = sizes.get(target);
      if (copied === undefined) return fail(node, `*${node.source}: this alias is inside its own anchor &${node.source}`);
      added += copied;
      if (added > MAX_ALIAS_VALUES) return fail(node, `aliases expand the file beyond the limit of ${MAX_ALIAS_VALUES.toLocaleString("en-US")} values: write the values out or use fewer aliases`);
      return copied;
    }
    const n = node as Node;
    if (n.anchor) anchors.set(n.anchor, n);
    let total = 1;
    if (isMap(node)) for (const pair of node.items) total += size(pair.key) + size(pair.value);
    else if (isSeq(node)) for (const item of node.items) total += size(item);
    sizes.set(n, total);
    return total;
  };
  size(source.doc.contents);
  return problem ? [problem] : [];
}

/** Where to point: an unclosed quote is reported at the end of the file, its opening quote is more useful. */
function errorOffset(text: string, code: string, message: string, offset: number): number {
  const quote = /Missing closing (["'])quote/.exec(message)?.[1];
  if (code === "MISSING_CHAR" && quote) return Math.max(0, text.lastIndexOf(quote, offset));
  return offset;
}

function syntaxMessage(code: string, message: string): string {
  if (code === "MULTIPLE_DOCS") return "more than one YAML document: a migration.yaml holds one (remove the extra '---')";
  if (code === "TAB_AS_INDENT") return "a tab indents this line: YAML indents with spaces";
  if (code === "MISSING_CHAR" && /quote/.test(message)) return `this quoted string is not closed: its closing ${/["']/.exec(message)?.[0]} is missing`;
  // yaml's own text, without its " at line N, column M" tail (the position is already in front)
  return `invalid YAML: ${message.replace(/ at line \d+, column \d+.*$/s, "")}`;
}

/** Every key defined twice in the same mapping, reported at the second one. */
function duplicateKeys(source: YamlSource): Issue[] {
  const issues: Issue[] = [];
  const walk = (node: unknown, path: Path) => {
    if (isMap(node)) {
      const first = new Map<string, Pair>();
      for (const pair of node.items) {
        const key = keyOf(pair);
        const earlier = first.get(key);
        if (earlier) {
          const { line } = positionOf(source, earlier.key as Node);
          issues.push({ ...error([...path, key], `duplicate key '${key}' (first defined on line ${line}): remove one`, "key"), ...positionOf(source, pair.key as Node) });
        } else first.set(key, pair);
        walk(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) node.items.forEach((item, i) => walk(item, [...path, i]));
  };
  walk(source.doc.contents, []);
  return issues;
}

export function keyOf(pair: Pair): string {
  return String(isScalar(pair.key) ? pair.key.value : pair.key);
}

function positionOf(source: YamlSource, node: Node | null | undefined): { line: number; column: number } {
  const offset = node?.range?.[0] ?? 0;
  const { line, col } = source.lines.linePos(offset);
  return { line, column: col };
}

/**
 * The node at `path` (aliases followed), with the pair that holds it when its parent is a mapping.
 * Returns the deepest node found when the path runs past the document (a missing key).
 */
export function nodeAt(source: YamlSource, path: Path): { node: Node | null; pair: Pair | null; found: boolean } {
  let node = source.doc.contents as Node | null;
  let pair: Pair | null = null;
  for (const part of path) {
    if (isAlias(node)) node = node.resolve(source.doc) ?? null;
    let next: Node | null | undefined;
    let nextPair: Pair | null = null;
    if (isMap(node)) {
      nextPair = pairsByKey(node).get(String(part)) ?? null;
      next = nextPair?.value as Node | null | undefined;
    } else if (isSeq(node) && typeof part === "number") {
      next = node.items[part] as Node | undefined;
    }
    if (next === undefined || (next === null && !nextPair)) return { node, pair, found: false };
    node = next;
    pair = nextPair;
  }
  if (isAlias(node)) node = node.resolve(source.doc) ?? null;
  return { node, pair, found: true };
}

/** Each mapping's pairs by key (the last of duplicates, as yaml's toJS keeps), built once: locating n issues stays linear. */
const pairIndex = new WeakMap<YAMLMap, Map<string, Pair>>();
function pairsByKey(node: YAMLMap): Map<string, Pair> {
  let index = pairIndex.get(node);
  if (!index) {
    index = new Map();
    for (const p of node.items as Pair[]) if (isPair(p)) index.set(keyOf(p), p);
    pairIndex.set(node, index);
  }
  return index;
}

/** Line and column for an issue: the value at its path, or its key; the key for an empty value. */
export function locate(source: YamlSource, issue: Issue): { line: number; column: number } {
  const { node, pair, found } = nodeAt(source, issue.path);
  if (found && pair && (issue.at === "key" || !node || !node.range)) return positionOf(source, pair.key as Node);
  return positionOf(source, node);
}
