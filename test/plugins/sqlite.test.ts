/**
 * storage/sqlite beyond the Store contract that sqlite-conformance.test.ts checks: where the file
 * is, one writer per file, a file of another program, kill -9 of the writer.
 */
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
