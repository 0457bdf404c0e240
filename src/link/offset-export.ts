/**
 * The offset map as a file: one row per copied record of translate-mode partitions
 * (topic, partition, mode, source_offset, target_offset, origin), and one row per exact-mode
 * partition saying from which offset on source and target offsets are identical. A partition that
 * switched from exact to translate mode (dual write) keeps a row saying below which offset they
 * stayed identical (origin identical-below-here), before its map's rows.
 * CSV, or Parquet for Spark / Flink / DuckDB users.
 */
import { writeFileSync } from "node:fs";
import { parquetWriteBuffer } from "hyparquet-writer";
import type { Store } from "../state/store.ts";
import { stateKey } from "./partition/state.ts";

export interface ExportRow {
  topic: string;
  partition: number;
  mode: "exact" | "translate";
  sourceOffset: number;
  targetOffset: number;
  origin: "source" | "target" | "identical-from-here" | "identical-below-here";
}

export async function exportRows(store: Store, topics?: string[]): Promise<ExportRow[]> {
  const out: ExportRow[] = [];
  const partitions = (await store.partitions()).filter((p) => !topics || topics.includes(p.topic));
  for (const p of partitions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)) {
    if (p.mode === "exact") {
      out.push({ topic: p.topic, partition: p.partition, mode: "exact", sourceOffset: p.sinceOffset, targetOffset: p.sinceOffset, origin: "identical-from-here" });
      continue;
    }
    const identicalBelow = await store.get(stateKey.identicalBelow(p.topic, p.partition));
    if (identicalBelow !== null) {
      const below = Number(identicalBelow);
      out.push({ topic: p.topic, partition: p.partition, mode: "translate", sourceOffset: below, targetOffset: below, origin: "identical-below-here" });
    }
    for (let from = 0; ; ) {
      const rows = await store.offsetMap(p.topic, p.partition, from, 100_000);
      for (const r of rows) out.push({ topic: r.topic, partition: r.partition, mode: "translate", sourceOffset: r.sourceOffset, targetOffset: r.targetOffset, origin: r.origin });
      if (rows.length < 100_000) break;
      from = rows[rows.length - 1]!.sourceOffset + 1;
    }
  }
  return out;
}

export function writeExport(rows: ExportRow[], format: "csv" | "parquet", path: string): void {
  if (format === "csv") {
    const lines = ["topic,partition,mode,source_offset,target_offset,origin"];
    for (const r of rows) lines.push(`${csvField(r.topic)},${r.partition},${r.mode},${r.sourceOffset},${r.targetOffset},${r.origin}`);
    writeFileSync(path, lines.join("\n") + "\n");
    return;
  }
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: "topic", data: rows.map((r) => r.topic), type: "STRING" },
      { name: "partition", data: rows.map((r) => r.partition), type: "INT32" },
      { name: "mode", data: rows.map((r) => r.mode), type: "STRING" },
      { name: "source_offset", data: rows.map((r) => BigInt(r.sourceOffset)), type: "INT64" },
      { name: "target_offset", data: rows.map((r) => BigInt(r.targetOffset)), type: "INT64" },
      { name: "origin", data: rows.map((r) => r.origin), type: "STRING" },
    ],
  });
  writeFileSync(path, new Uint8Array(buffer));
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
