/** The glob matcher agrees with the regular expression a glob means, and stays fast on globs that make a backtracking regex explode. */
import { test, expect } from "bun:test";
import { globMatches } from "../../src/config/glob.ts";

const reference = (glob: string) => new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);

test("agrees with the equivalent regular expression on random globs and names", () => {
  let seed = 13;
  const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const pick = (alphabet: string, max: number) => Array.from({ length: random(max + 1) }, () => alphabet[random(alphabet.length)]).join("");
  for (let i = 0; i < 20_000; i++) {
    const glob = pick("ab*?.", 8);
    const name = pick("ab.", 10);
    expect([glob, name, globMatches(glob, name)]).toEqual([glob, name, reference(glob).test(name)]);
  }
  for (const [glob, name, want] of [["orders*", "orders-eu", true], ["*", "", true], ["", "", true], ["?", "", false], ["a*b*c", "aXbYc", true], ["a*b*c", "aXbY", false]] as const) {
    expect(globMatches(glob, name)).toBe(want);
  }
});

test("'*?' repeated answers at once where a regular expression backtracks exponentially", () => {
  const glob = "*?".repeat(124);
  const name = "a".repeat(249);
  // Both must finish: the matcher's work is bounded by name × glob (62,000 steps), so no timing threshold is needed.
  expect(globMatches(glob, name)).toBe(true);
  expect(globMatches(`${glob}b`, name)).toBe(false);
});
