/**
 * Offset-map lookups in the SQLite store (plugins/storage/sqlite.ts): `seek` from a source
 * offset (where does a group committed at C resume on the target?) and from a target offset,
 * on a map of 1,000,000 rows for one partition with a hole every 7th source offset (as
 * compaction leaves), at seeded random offsets.
 */
import { Bench } from "tinybench";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../plugins/storage/sqlite.ts";
import { seeded } from "../replicate/dataset.ts";
import type { MicroResult } from "../replicate/report.ts";
import { results } from "./common.ts";

const ROWS = 1_000_000;
const LOOKUPS = 1000;

export async function offsetMapBench(iterations = 50): Promise<MicroResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "klink-micro-"));
  const store = new SqliteStore(join(dir, "state.db"), "normal");
  try {
    let source = 0;
    for (let target = 0; target < ROWS; ) {
      const offsets = [];
      for (let i = 0; i < 50_000 && target < ROWS; i++, target++, source++) {
        if (source % 7 === 6) source++; // a hole in the source
        offsets.push({ topic: "orders", partition: 0, sourceOffset: source, targetOffset: target, origin: "source" as const });
      }
      await store.write([{ offsets }]);
    }
    const next = seeded(7);
    const sourceKeys = Array.from({ length: LOOKUPS }, () => Math.floor(next() * source));
    const targetKeys = Array.from({ length: LOOKUPS }, () => Math.floor(next() * ROWS));
    const bench = new Bench({ iterations, time: 0, warmupIterations: 5, warmupTime: 0 });
    bench.add("offset map: seek(source offset)", async () => {
      for (const k of sourceKeys) if (!(await store.seek("source", "orders", 0, k))) throw new Error(`no row at or after source ${k}`);
    });
    bench.add("offset map: seek(target offset)", async () => {
      for (const k of targetKeys) if (!(await store.seek("target", "orders", 0, k))) throw new Error(`no row at or after target ${k}`);
    });
    await bench.run();
    const op = { op: `lookup in ${ROWS.toLocaleString("en-US")} rows`, opsPerCall: LOOKUPS };
    return results(bench, { "offset map: seek(source offset)": op, "offset map: seek(target offset)": op });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
