/**
 * Secret values of a migration.yaml: everything that came from `${env:...}` or `${file:...}`
 * (bootstrap servers excepted: they are addresses klink has to name when it cannot connect),
 * and every string under a key that names a secret (password, token, ...), however written.
 * Nothing klink prints about a config may contain one: pass text through `redact()`.
 */
import { isSecretKey } from "../rdkafka/config.ts";

export const REDACTED = "<redacted>";

export class Secrets {
  private readonly values = new Set<string>();

  add(value: string): void {
    if (value.length > 0) this.values.add(value);
    // a file read with its final newline removed may still be echoed with it, and vice versa
    const trimmed = value.trim();
    if (trimmed.length > 0) this.values.add(trimmed);
  }

  has(value: string): boolean {
    return this.values.has(value);
  }

  get size(): number {
    return this.values.size;
  }

  /** `text` with every secret replaced by <redacted>; longer secrets first, so none is half-replaced. */
  redact(text: string): string {
    if (this.values.size === 0) return text;
    let out = text;
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) out = out.split(v).join(REDACTED);
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
