/**
 * Shell-style globs (`*` any run of characters, `?` one character) matched against whole names in
 * linear memory and O(name × glob) time at worst: the classic two-pointer match that remembers
 * only the last `*` (a later `*` makes every earlier one's choice final). A regular expression
 * built from the glob backtracks exponentially instead: `*?` repeated 16 times froze klink for
 * seconds on one request.
 */

/** Longest topic name Kafka accepts; longer names and globs are refused before matching. */
export const MAX_NAME_LENGTH = 249;

export function globMatches(glob: string, name: string): boolean {
  let g = 0;
  let n = 0;
  let star = -1; // position in glob just after the last '*' seen
  let starName = 0; // where in name that '*' currently ends
  while (n < name.length) {
    const c = glob[g];
    if (c === "*") {
      star = ++g;
      starName = n;
    } else if (g < glob.length && (c === "?" || c === name[n])) {
      g++;
      n++;
    } else if (star >= 0) {
      g = star;
      n = ++starName; // the last '*' takes one more character
    } else {
      return false;
    }
  }
  while (glob[g] === "*") g++;
  return g === glob.length;
}
