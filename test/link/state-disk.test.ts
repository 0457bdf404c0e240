/**
 * The state directory read-only or full: klink names the state file and says what to do (plan
 * lists it as a problem; run exits 1 before it starts, or 2 when the disk fills while it runs),
 * and nothing is lost once space is back. Root ignores file modes, so the directories are tmpfs
 * mounts (a read-only one, a small one filled up); not root: a directory made read-only with chmod,
 * and the full disk is not exercised.
 */
import { afterAll, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { source, target, uniqueName, withAdmin } from "../helpers.ts";
import { readTopic } from "./dual-write-workload.ts";
import { klink, KlinkRun, steadyProducer, stopAllKlinks, writeMigration } from "./klink-process.ts";

const ROOT = process.getuid?.() === 0;
const mounts: string[] = [];

/** A fresh tmpfs of `size` (root), or null when mounting is not allowed here. */
function tmpfs(size: string, readOnly = false): string | null {
  const dir = mkdtempSync(join(tmpdir(), "klink-statefs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}${readOnly ? ",ro" : ""}`, "tmpfs", dir], { stdio: "pipe" });
  } catch {
    return null;
  }
  mounts.push(dir);
  return dir;
}

/** A directory klink cannot write: a read-only tmpfs as root, chmod 555 otherwise. */
function readOnlyDir(): string | null {
  if (ROOT) return tmpfs("1m", true);
  const dir = mkdtempSync(join(tmpdir(), "klink-ro-"));
  chmodSync(dir, 0o555);
  return dir;
}

const full = ROOT ? tmpfs("2m") : null;
const readOnly = readOnlyDir();

afterAll(async () => {
  await stopAllKlinks();
  for (const dir of mounts) execFileSync("umount", ["-l", dir]);
});

const storage = (dir: string) => `storage: { plugin: sqlite, options: { path: ${dir}/state.db } }\n`;
const unwritable = (dir: string) =>
  ROOT ? `cannot write the state file ${dir}/state.db: ${dir} is on a read-only file system: make it writable, or set storage.options.path to a writable place`
    : `cannot write the state file ${dir}/state.db: no permission to write ${dir}: make it writable, or set storage.options.path to a writable place`;

test.skipIf(readOnly === null)("a read-only state directory: plan lists it as a problem, run names it and exits 1", async () => {
  const topic = uniqueName("ro-state");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  const file = writeMigration({ topics: [topic], linkName: uniqueName("ro-state"), extra: storage(readOnly!) });
  const plan = await klink(["plan", file]);
  expect(plan.stdout).toContain(`  error    state: ${unwritable(readOnly!)}\n`);
  expect(plan.code).toBe(1);
  const run = await klink(["run", file, "--until-caught-up"]);
  expect(run.stderr).toBe(`klink run: storage plugin sqlite (storage) failed to start: ${unwritable(readOnly!)}\n`);
  expect(run.code).toBe(1);
});

test.skipIf(full === null)("the disk of the state fills while run copies: exit 2 with one line naming the state file; nothing lost after a restart", async () => {
  const topic = uniqueName("full-state");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 2 }]));
  const file = writeMigration({ topics: [topic], linkName: uniqueName("full-state"), offsets: "translate", extra: storage(full!) });
  const load = steadyProducer(source(), topic, 2);
  const run = new KlinkRun(file);
  for (let i = 0; !run.output.includes("mirroring 1 topic") && i < 600 && !run.exited; i++) await Bun.sleep(100);
  expect(run.output).toContain("mirroring 1 topic");

  // fill the file system: every later state write fails with SQLITE_FULL
  const filler = join(full!, "filler");
  try {
    execFileSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=4k"], { stdio: "pipe" });
  } catch {
    // dd ends with "No space left on device": the disk is full
  }
  for (let i = 0; i < 1200 && !run.exited; i++) await Bun.sleep(100);
  const sent = await load.stop();
  await run.stop();
  const lines = run.output.trimEnd().split("\n");
  expect(run.summary()).toContain("exited: 2");
  expect(lines.filter((l) => /^\s+at /.test(l))).toEqual([]);
  expect(lines.at(-1)).toBe(`klink run: cannot write the state file ${full}/state.db: the disk is full; free some space and run klink again (what it wrote before is kept)`);

  rmSync(filler);
  const again = await klink(["run", file, "--until-caught-up"]);
  expect(again.code).toBe(0);
  // the oracle: every record written to the source is on the target (read with our own consumer)
  const onTarget = new Set((await readTopic(target(), topic)).map((r) => r.key?.toString()));
  const lost = Array.from({ length: sent }, (_, n) => `k${n}`).filter((k) => !onTarget.has(k));
  expect(lost).toEqual([]);
}, 600_000);

test("plan on a writable state directory lists no state problem", async () => {
  const topic = uniqueName("rw-state");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  const dir = mkdtempSync(join(tmpdir(), "klink-rw-"));
  mkdirSync(join(dir, "s"));
  writeFileSync(join(dir, "s", "keep"), "");
  const file = writeMigration({ topics: [topic], linkName: uniqueName("rw-state"), extra: storage(join(dir, "s")) });
  const plan = await klink(["plan", file]);
  expect(plan.stdout).not.toContain("state:");
  expect(plan.code).toBe(0);
});
