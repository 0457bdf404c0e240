/**
 * One writer per link (issue 11, item 1): a second `klink run` on the same state is refused
 * before it touches a cluster (storage/sqlite), or takes over and stops the first one's copying
 * (storage/kafka); a status address that is taken is fatal for run. The oracle reads both
 * clusters with a test consumer: the target must be an exact copy, offset by offset.
 */
import { test, expect, afterAll } from "bun:test";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { source, target, uniqueName, withAdmin } from "../helpers.ts";
import { writeMigration, spawnKlink, klink, steadyProducer, statusWhenRunning, runInBackground } from "./klink-process.ts";
import { expectExactCopy } from "./exact-copy.ts";

const running = new Set<ReturnType<typeof spawnKlink>>();
afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
});

const start = (file: string) => runInBackground(file, running);

test("sqlite: a second run on the same state is refused (exit 2, the state file and the holder named) before it touches a cluster; the first keeps copying; read-only commands work; kill -9 leaves no stale lock", async () => {
  const topic = uniqueName("writer");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 3 }]));
  const link = uniqueName("writer");
  const file = writeMigration({ topics: [topic], linkName: link });
  const state = join(dirname(file), "migration.klink.db");
  const load = steadyProducer(source(), topic, 3);
  const first = start(file);
  await statusWhenRunning(file);

  // The same file again (its status address is the first one's too).
  const same = await klink(["run", file]);
  expect(same.code).toBe(2);
  expect(same.stderr).toContain(state);
  expect(same.stderr).toContain(`pid ${first.proc.pid}`);
  // Another file naming the same state file, with its own status address: the lock refuses it.
  const other = writeMigration({ topics: [topic], linkName: link, extra: `storage:\n  plugin: sqlite\n  options: { path: "${state}" }\n` });
  const sameState = await klink(["run", other]);
  expect(sameState.code).toBe(2);
  expect(sameState.stderr).toContain(`${state} is in use by another klink run (pid ${first.proc.pid}`);

  // The first instance kept copying: records written after the refusals reach the target.
  const marks = async (c: typeof source) => (await withAdmin(c(), (a) => a.watermarks([0, 1, 2].map((partition) => ({ topic, partition }))))).map((m) => m.high);
  let sourceNow = await marks(source);
  while (sourceNow.some((high) => high === 0)) sourceNow = (await Bun.sleep(200), await marks(source));
  while ((await marks(target)).some((high, i) => high < sourceNow[i]!)) await Bun.sleep(200);

  // Read-only commands work while run holds the state (translate once offset 0 is copied: before, it
  // answers "no translation yet", exit 2, which failed this test when asked in klink's first second).
  expect((await klink(["plan", file])).code).toBe(0);
  const translated = await klink(["offsets", "translate", file, "--topic", topic, "--partition", "0", "--offset", "0"]);
  expect(translated.stderr + translated.stdout).toContain("target offset 0");
  expect(translated.code).toBe(0);

  // kill -9: the lock goes with the process; the file beside the state stays and blocks nothing.
  first.proc.kill("SIGKILL");
  await first.exited;
  expect(existsSync(`${state}.lock`)).toBe(true);
  const produced = await load.stop();
  const resumed = await klink(["run", file, "--until-caught-up"]);
  expect(resumed.stderr).not.toContain("in use");
  expect(resumed.code).toBe(0);
  await expectExactCopy(topic, produced);
}, 300_000);

test("a status address that is taken is fatal for run: exit 2, said clearly, before any cluster is touched", async () => {
  const topic = uniqueName("port");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  const squatter = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("not klink") });
  try {
    const file = writeMigration({ topics: [topic], linkName: uniqueName("port"), listen: `127.0.0.1:${squatter.port}` });
    const r = await klink(["run", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`status endpoint 127.0.0.1:${squatter.port} cannot listen`);
    expect(r.stderr).toContain("in use");
    expect(await withAdmin(target(), async (a) => a.listTopics().map((t) => t.name))).not.toContain(topic);
    expect(existsSync(join(dirname(file), "migration.klink.db"))).toBe(false);
  } finally {
    squatter.stop(true);
  }
}, 120_000);

test("storage/kafka: a second instance takes over; the first stops copying at once, says it was fenced, exits 2; every record once, at its source offset", async () => {
  const topic = uniqueName("takeover");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 3 }]));
  const link = uniqueName("takeover");
  const storage = "storage:\n  plugin: kafka\n";
  const [fileA, fileB] = [writeMigration({ topics: [topic], linkName: link, extra: storage }), writeMigration({ topics: [topic], linkName: link, extra: storage })];
  const load = steadyProducer(source(), topic, 3);
  const a = start(fileA);
  const idA = (await statusWhenRunning(fileA)).id;
  await Bun.sleep(2_000); // copying, and idle long enough for the state writer's liveness check

  const b = start(fileB);
  const stillRunning = await Promise.race([a.exited, Bun.sleep(120_000).then(() => "still running")]);
  expect(stillRunning).toBe(2);
  expect(await a.output).toContain("fenced");
  const statusB = await statusWhenRunning(fileB);
  expect(statusB.id).toBe(idA); // the link id is kept with the state
  await Bun.sleep(3_000); // B copies while the producer goes on
  const produced = await load.stop();
  b.proc.kill("SIGTERM");
  expect(await b.exited).toBe(0);
  const last = await klink(["run", fileB, "--until-caught-up"]);
  expect(last.code).toBe(0);
  await expectExactCopy(topic, produced);
}, 300_000);
