/** Sizes as migration.yaml writes them: 1048576, "512KiB", "64MiB", "1.5GiB", "500MB" (decimal). */
const UNITS: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KIB: 2 ** 10, MIB: 2 ** 20, GIB: 2 ** 30, TIB: 2 ** 40 };

/** Bytes, or NaN when `value` is not a size (the schema rejects those first). */
export function parseSize(value: number | string): number {
  if (typeof value === "number") return value;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$/i.exec(value);
  if (!m) return NaN;
  return Math.floor(Number(m[1]) * (UNITS[(m[2] ?? "B").toUpperCase()] ?? NaN));
}

export function formatBytes(n: number): string {
  for (const [unit, size] of [["GiB", 2 ** 30], ["MiB", 2 ** 20], ["KiB", 2 ** 10]] as const) {
    if (n >= size) return `${Number((n / size).toFixed(2))}${unit}`;
  }
  return `${n} bytes`;
}
