import { test, expect } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parquetReadObjects } from "hyparquet";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import { writeMigration, klink } from "./klink-process.ts";

test("klink offsets translate answers from the state; export writes the offset map as Parquet and CSV", async () => {
  const exact = uniqueName("offsets-exact");
  const mapped = uniqueName("offsets-mapped");
  await withAdmin(source(), (a) => a.createTopics([{ name: exact, partitions: 1 }, { name: mapped, partitions: 1 }]));
  await withAdmin(target(), (a) => a.createTopics([{ name: mapped, partitions: 1 }]));
  const p = new Producer(plain(source(), { "linger.ms": 5 }));
  for (let i = 0; i < 100; i++) {
    p.produce({ topic: exact, partition: 0, value: `e${i}` });
    p.produce({ topic: mapped, partition: 0, value: `m${i}` });
  }
  await p.flush();
  await p.close();
  const t = new Producer(plain(target()));
  for (let i = 0; i < 40; i++) t.produce({ topic: mapped, partition: 0, value: `foreign${i}` }); // translate mode: +40
  await t.flush();
  await t.close();

  const file = writeMigration({ topics: [exact, mapped], linkName: uniqueName("offsets") });
  const run = await klink(["run", file, "--until-caught-up"]);
  expect(run.code).toBe(0);
  expect((await klink(["verify", file])).code).toBe(0);

  const ask = async (...args: string[]) => {
    const r = await klink(["offsets", "translate", file, ...args, "--json"]);
    return { code: r.code, answer: r.stdout ? JSON.parse(r.stdout) : null, stderr: r.stderr };
  };
  expect((await ask("--topic", exact, "--partition", "0", "--offset", "57")).answer).toMatchObject({ translated: 57, mode: "exact" });
  expect((await ask("--topic", mapped, "--partition", "0", "--offset", "57")).answer).toMatchObject({ translated: 97, mode: "translate" });
  expect((await ask("--topic", mapped, "--partition", "0", "--offset", "97", "--to", "source")).answer).toMatchObject({ translated: 57 });
  // A committed position at the end (nothing copied there yet) has no translation: exit 2.
  const end = await ask("--topic", mapped, "--partition", "0", "--offset", "100");
  expect(end.code).toBe(2);
  expect(end.answer.translated).toBeNull();
  const unknown = await klink(["offsets", "translate", file, "--topic", mapped, "--partition", "7", "--offset", "1"]);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain(`${mapped}[7] is not linked`);

  const dir = dirname(file);
  const parquet = join(dir, "map.parquet");
  const csv = join(dir, "map.csv");
  expect((await klink(["offsets", "export", file, "--format", "parquet", "--out", parquet])).code).toBe(0);
  expect((await klink(["offsets", "export", file, "--format", "csv", "--out", csv])).code).toBe(0);
  const buffer = readFileSync(parquet);
  const rows = await parquetReadObjects({ file: buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) });
  const mine = rows.filter((r: any) => r.topic === mapped);
  expect(mine).toHaveLength(100);
  expect(mine.every((r: any) => Number(r.target_offset) === Number(r.source_offset) + 40 && r.mode === "translate")).toBe(true);
  expect(rows.filter((r: any) => r.topic === exact)).toEqual([
    { topic: exact, partition: 0, mode: "exact", source_offset: 0n, target_offset: 0n, origin: "identical-from-here" },
  ]);
  const lines = readFileSync(csv, "utf8").trim().split("\n");
  expect(lines[0]).toBe("topic,partition,mode,source_offset,target_offset,origin");
  expect(lines).toContain(`${mapped},0,translate,57,97,source`);
  expect(lines).toHaveLength(1 + 101);
}, 180_000);
