/**
 * The shape of the code, checked without clusters:
 * - layers point one way: no import cycle among the files of src/ and plugins/ (a type-only
 *   import counts too: it is still an arrow in the picture a reader has to hold);
 * - no file in src/ is over MAX_LINES lines unless the first comment block at its top says why,
 *   with the words "long because" (e.g. `long because: one table of symbols, read top to bottom`).
 */
import { test, expect } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const LAYERS = ["src", "plugins"];
const MAX_LINES = 500;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => join(e.parentPath, e.name));
}

/** `import … from "x"`, `import type … from "x"`, `export … from "x"`, `import "x"`: the "x"s. */
const FROM = /^\s*(?:import|export)\s+(?:type\s+)?(?:[\w$*\s,]*(?:\{[^}]*\})?\s*from\s*)?["']([^"']+)["']/gm;

function imports(file: string, known: Set<string>): string[] {
  const out: string[] = [];
  for (const [, spec] of readFileSync(file, "utf8").matchAll(FROM)) {
    if (!spec!.startsWith(".")) continue; // packages and node:/bun: modules are outside the layers
    const path = resolve(dirname(file), spec!);
    const hit = [path, `${path}.ts`, join(path, "index.ts")].find((p) => known.has(p));
    if (hit) out.push(hit);
  }
  return out;
}

/** Every import cycle's files, as one concrete loop per strongly connected group (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      for (let w = ""; w !== v; ) {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      }
      if (group.length > 1 || graph.get(v)!.includes(v)) groups.push(group);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return groups.map((group) => loop(graph, new Set(group)));
}

/** The shortest path from the group's first file back to itself, staying inside the group. */
function loop(graph: Map<string, string[]>, group: Set<string>): string[] {
  const start = [...group].sort()[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v)!) {
      if (!group.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = previous.get(u)!) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

test("no import cycle among the files of src/ and plugins/", () => {
  const files = LAYERS.flatMap((d) => tsFiles(join(ROOT, d)));
  const known = new Set(files);
  const graph = new Map(files.map((f) => [f, imports(f, known)]));
  const found = cycles(graph).map((c) => c.map((f) => relative(ROOT, f)).join(" → "));
  expect(found).toEqual([]);
});

test(`no file in src/ over ${MAX_LINES} lines unless its top comment says why ("long because")`, () => {
  const unexplained = tsFiles(join(ROOT, "src"))
    .map((f) => ({ f, text: readFileSync(f, "utf8") }))
    .filter(({ text }) => lines(text) > MAX_LINES && !/long because/i.test(topComment(text)))
    .map(({ f, text }) => `${relative(ROOT, f)}: ${lines(text)} lines`);
  expect(unexplained).toEqual([]);
});

const lines = (text: string) => text.split("\n").length - (text.endsWith("\n") ? 1 : 0);

/** The comment lines and blocks before the first line of code. */
function topComment(text: string): string {
  const match = /^(?:\s*(?:\/\*[\s\S]*?\*\/|\/\/[^\n]*))*/.exec(text);
  return match?.[0] ?? "";
}

test("the import reader sees every form of import the code uses", () => {
  const text = [
    `import { a, type B } from "./one.ts";`,
    `import type { C } from "./two.ts";`,
    `import * as d from "./three.ts";`,
    `import e, {\n  f,\n  g,\n} from "./four.ts";`,
    `export * from "./five.ts";`,
    `export { h } from "./six.ts";`,
    `export type { I } from "./seven.ts";`,
    `import "./eight.ts";`,
    `import { j } from "node:fs";`,
    `// a comment that says import x from "./nine.ts" is not an import`,
  ].join("\n");
  expect([...text.matchAll(FROM)].map((m) => m[1])).toEqual([
    "./one.ts", "./two.ts", "./three.ts", "./four.ts", "./five.ts", "./six.ts", "./seven.ts", "./eight.ts", "node:fs",
  ]);
});
