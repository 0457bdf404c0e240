import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { create, SqliteStore, statePath } from "../../plugins/storage/sqlite.ts";
import { tempDir } from "../config/cli.ts";

const context = (dir: string, readOnly = false) => ({ configFile: join(dir, "migration.yaml"), configDir: dir, linkName: "t", readOnly });

test("the state file defaults to <yaml name>.klink.db beside the YAML; `path` is relative to it", () => {
  expect(statePath({}, context("/srv/m"))).toBe("/srv/m/migration.klink.db");
  expect(statePath({ path: "state/x.db" }, context("/srv/m"))).toBe("/srv/m/state/x.db");
});

test("lifecycle states, key-values and the offset map round-trip; seek never skips a record", async () => {
  const dir = tempDir();
  const store = create({ synchronous: "full" }, context(dir));
  await store.write([
    { topic: "orders", state: "mirroring" },
    { group: "billing", state: "watching", detail: "3 members on the source" },
    { put: "fetcher.orders.0", value: "42" },
    { partition: { topic: "orders", partition: 0 }, mode: "translate", sinceOffset: 100, detail: "hole at 100" },
    // source offsets 100, 101, 105 (a compaction hole) → target 0, 1, 2; then a record produced to the target
    { offsets: [100, 101, 105].map((s, i) => ({ topic: "orders", partition: 0, sourceOffset: s, targetOffset: i, origin: "source" as const })) },
    { offsets: [{ topic: "orders", partition: 0, sourceOffset: 106, targetOffset: 3, origin: "target" }] },
  ]);
  await store.write([{ topic: "orders", state: "dual-write", detail: "first direct write" }, { put: "fetcher.orders.0", value: null }]);

  expect((await store.topics()).map(({ topic, state, detail }) => ({ topic, state, detail }))).toEqual([{ topic: "orders", state: "dual-write", detail: "first direct write" }]);
  expect((await store.groups()).map((g) => [g.group, g.state, g.detail])).toEqual([["billing", "watching", "3 members on the source"]]);
  expect(await store.get("fetcher.orders.0")).toBeNull();
  expect((await store.partitions("orders")).map(({ partition, mode, sinceOffset }) => ({ partition, mode, sinceOffset }))).toEqual([{ partition: 0, mode: "translate", sinceOffset: 100 }]);
  // a group committed at 102 (next to read) resumes at the record after it: source 105 → target 2
  expect((await store.seek("source", "orders", 0, 102))?.targetOffset).toBe(2);
  expect((await store.seek("target", "orders", 0, 3))?.sourceOffset).toBe(106);
  expect(await store.seek("source", "orders", 0, 107)).toBeNull();
  expect((await store.last("target", "orders", 0, "source"))?.targetOffset).toBe(2);
  expect((await store.offsetMap("orders", 0, 101, 2)).map((r) => r.sourceOffset)).toEqual([101, 105]);
  await store.close();
});

test("read-only on a missing file: empty state, and no file is created", async () => {
  const dir = tempDir();
  const store = create({ synchronous: "full" }, context(dir, true));
  expect(await store.topics()).toEqual([]);
  await expect(store.write([{ put: "k", value: "v" }])).rejects.toThrow("is open read-only");
  await store.close();
  expect(existsSync(join(dir, "migration.klink.db"))).toBe(false);
});

test("one writer per file: a second writable open is refused, naming the file and the holder; read-only opens work; close releases", async () => {
  const dir = tempDir();
  const first = create({ synchronous: "full" }, context(dir));
  await first.write([{ put: "k", value: "v" }]);
  expect(() => create({ synchronous: "full" }, context(dir))).toThrow(
    new RegExp(`state file ${join(dir, "migration.klink.db")} is in use by another klink run \\(pid ${process.pid} on host `),
  );
  const reader = create({ synchronous: "full" }, context(dir, true));
  expect(await reader.get("k")).toBe("v");
  await reader.close();
  await first.close();
  const second = create({ synchronous: "full" }, context(dir));
  expect(await second.get("k")).toBe("v");
  await second.close();
});

test("a file that is not klink's state is refused", async () => {
  const dir = tempDir();
  const { Database } = await import("bun:sqlite");
  const other = new Database(join(dir, "other.db"));
  other.run("PRAGMA application_id = 12345");
  other.run("CREATE TABLE x (y)");
  other.close();
  expect(() => new SqliteStore(join(dir, "other.db"))).toThrow("is an SQLite file of another program, not klink state");
});

test("state survives kill -9 of the writer: every acknowledged batch is there, no batch is half there", async () => {
  const dir = tempDir();
  const file = join(dir, "state.db");
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "sqlite-writer.ts"), file], { stdout: "pipe", stderr: "inherit" });
  let acknowledged = 0;
  const reader = child.stdout.getReader();
  let buffered = "";
  while (acknowledged < 200) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the writer exited before it was killed");
    buffered += new TextDecoder().decode(value);
    for (const m of buffered.matchAll(/committed (\d+)\n/g)) acknowledged = Math.max(acknowledged, Number(m[1]));
    buffered = buffered.slice(buffered.lastIndexOf("\n") + 1);
  }
  child.kill("SIGKILL");
  await child.exited;

  const store = new SqliteStore(file); // the killed writer's lock went with it
  const last = Number(await store.get("last-batch"));
  expect(last).toBeGreaterThanOrEqual(acknowledged);
  const rows = await store.offsetMap("t", 0, 0, 1_000_000);
  expect(rows.length).toBe(last * 10); // batches are whole: 10 rows each, none torn
  expect(rows.at(-1)!.sourceOffset).toBe(last * 10 + 9);
  expect((await store.topics())[0]!.detail).toBe(`batch ${last}`);
  await store.close();
});
