/**
 * Secret values of a migration.yaml: everything that came from `${env:...}` or `${file:...}`
 * (except bootstrap servers, addresses klink has to name when it cannot connect, and numbers
 * and booleans, which are settings), and every string the schema marks writeOnly or that sits
 * under a key naming a secret (password, token, ...), however written.
 * Nothing klink prints about a config may contain one: pass text through `redact()`.
 */
import { isSecretKey } from "../rdkafka/config.ts";

export const REDACTED = "<redacted>";

export class Secrets {
  private readonly values = new Set<string>();

  add(value: string): void {
    for (const form of printedForms(value)) this.values.add(form);
  }

  /** A value that turned out not to be secret (a number or boolean setting read from the environment). */
  remove(value: string): void {
    for (const form of printedForms(value)) this.values.delete(form);
  }

  has(value: string): boolean {
    return this.values.has(value);
  }

  get size(): number {
    return this.values.size;
  }

  /**
   * `text` with every secret replaced by <redacted>; longer secrets first, so none is half-replaced.
   * Secrets shorter than 4 characters only where they stand alone (not inside a word), so that a
   * silly one-letter password does not blank out every such letter of a message.
   */
  redact(text: string): string {
    if (this.values.size === 0) return text;
    let out = text;
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) {
      if (v.length >= 4) out = out.split(v).join(REDACTED);
      else out = out.replace(new RegExp(`(?<![\\w-])${v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\w-])`, "g"), REDACTED);
    }
    return out;
  }

  /** A deep copy of `value` with secret strings and values under secret keys replaced. */
  redactValue<T>(value: T): T {
    const walk = (v: unknown, key: string): unknown => {
      if (typeof v === "string") return isSecretKey(key) ? REDACTED : this.redact(v);
      if (Array.isArray(v)) return v.map((x) => walk(x, key));
      if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
      }
      return v;
    };
    return walk(value, "") as T;
  }
}

/**
 * How a value may appear in printed text: as it is and trimmed (a file read with its final newline
 * removed may still be echoed with it, and vice versa), escaped as in JSON, as a regular
 * expression's source (RegExp.source escapes newlines and '/'), regex-quoted, URL-encoded, and each
 * line of a multi-line value on its own (a message may quote one line).
 */
function printedForms(value: string): string[] {
  const forms = new Set([value, value.trim()]);
  forms.add(JSON.stringify(value).slice(1, -1));
  try {
    forms.add(new RegExp(value).source);
  } catch {
    // not a valid regular expression: never printed as one
  }
  forms.add(value.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"));
  forms.add(encodeURIComponent(value));
  if (value.includes("\n")) for (const line of value.split(/\r?\n/)) if (line.trim().length >= 4) forms.add(line.trim());
  forms.delete("");
  return [...forms];
}
