/**
 * Parsing and validating migration.yaml stays linear in its size: loads files that double in
 * size (10k to 160k unknown keys, list items, ...) in-process and prints the time per size side by
 * side, with the time per 1,000 entries, which stays about flat when the cost is linear.
 * Needs no cluster.  npx bun bench/config-doubling.ts [--shape keys|topics|nested-keys|flow] [--max 160000]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config/load.ts";
import { ConfigError } from "../src/config/issues.ts";

const HEAD = "clusters:\n  source:\n    bootstrap: 127.0.0.1:9092\n  target:\n    bootstrap: 127.0.0.1:9093\nlink:\n  name: bench\n";

/** Each shape: a migration.yaml with `n` entries of one kind. */
export const shapes: Record<string, (n: number) => string> = {
  keys: (n) => `${HEAD}  topics: [orders]\n${Array.from({ length: n }, (_, i) => `unknown${i}: ${i}\n`).join("")}`,
  "nested-keys": (n) => `${HEAD}  topics: [orders]\n  extra:\n${Array.from({ length: n }, (_, i) => `    unknown${i}: ${i}\n`).join("")}`,
  topics: (n) => `${HEAD}  topics:\n${Array.from({ length: n }, (_, i) => `    - topic-${i}\n`).join("")}`,
  flow: (n) => `${HEAD}  topics: [orders]\nx: ${"[".repeat(n)}${"]".repeat(n)}\n`,
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

if (import.meta.main) {
  const max = Number(arg("max", "160000"));
  const only = arg("shape", "");
  const dir = mkdtempSync(join(tmpdir(), "klink-config-doubling-"));
  const names = only ? [only] : Object.keys(shapes);
  console.log(`${"entries".padStart(8)}  ${names.map((n) => `${`${n}: wall ms`.padStart(22)}${"cpu ms".padStart(8)}${"outcome".padStart(12)}${"cpu ms/1k".padStart(10)}`).join("  ")}`);
  try {
    // warm up the parser and the validator, so that the first size is not charged for compiling them
    writeFileSync(join(dir, "warm.yaml"), shapes.keys!(1000));
    await loadConfig(join(dir, "warm.yaml")).catch(() => {});
    for (let n = 10_000; n <= max; n *= 2) {
      const cells: string[] = [];
      for (const name of names) {
        const file = join(dir, `${name}-${n}.yaml`);
        writeFileSync(file, shapes[name]!(n));
        const started = performance.now();
        const cpu = process.cpuUsage();
        let outcome = "ok";
        try {
          await loadConfig(file);
        } catch (err) {
          outcome = err instanceof ConfigError ? `${err.errorCount} err` : "throw";
        }
        const wall = performance.now() - started;
        const used = process.cpuUsage(cpu);
        const cpuMs = (used.user + used.system) / 1000;
        cells.push(`${wall.toFixed(0).padStart(22)}${cpuMs.toFixed(0).padStart(8)}${outcome.padStart(12)}${(cpuMs / (n / 1000)).toFixed(1).padStart(10)}`);
      }
      console.log(`${String(n).padStart(8)}  ${cells.join("  ")}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
