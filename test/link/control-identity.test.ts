/**
 * Control commands check which link answers (issue 11, item 6): a migration file whose
 * status.listen points at another link's running klink gets refused by `status`, `promote`,
 * `handoff` and `rollback`, and nothing happens to the running link. So is a file of the same link
 * name whose state holds another link id.
 */
import { test, expect, afterAll } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { source, target, uniqueName, withAdmin } from "../helpers.ts";
import { writeMigration, spawnKlink, klink, steadyProducer, statusWhenRunning } from "./klink-process.ts";

const running = new Set<ReturnType<typeof spawnKlink>>();
afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
});

test("a file naming another link at the same status address is refused; the running link is not promoted and keeps copying", async () => {
  const topic = uniqueName("identity");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 2 }]));
  const [linkA, linkB] = [uniqueName("rel"), uniqueName("other")];
  const fileA = writeMigration({ topics: [topic], linkName: linkA });
  const listen = /listen: (\S+)/.exec(readFileSync(fileA, "utf8"))![1]!;
  const fileB = writeMigration({ topics: [topic], linkName: linkB, listen });
  const load = steadyProducer(source(), topic, 2, 5);
  const proc = spawnKlink(["run", fileA]);
  running.add(proc);
  const answer = await statusWhenRunning(fileA);
  expect(answer.link).toBe(linkA);
  expect(answer.id).toMatch(/^[0-9a-f-]{36}$/);

  const status = await klink(["status", fileB]);
  expect(status.code).toBe(2);
  expect(status.stderr).toContain(`link '${linkA}'`);
  expect(status.stderr).toContain(`link '${linkB}'`);
  expect(status.stdout).toBe("");
  for (const args of [["promote", fileB, topic, "--force"], ["handoff", fileB, "some-group"], ["rollback", fileB, topic]]) {
    const r = await klink(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`link '${linkA}'`);
    expect(r.stderr).toContain(`link '${linkB}'`);
  }
  // The same link name, but another migration's state (its own link id): refused as well.
  const twin = uniqueName("identity-twin");
  await withAdmin(source(), (a) => a.createTopics([{ name: twin, partitions: 1 }]));
  const fileTwin = writeMigration({ topics: [twin], linkName: linkA });
  expect((await klink(["run", fileTwin, "--until-caught-up"])).code).toBe(0); // creates its state and link id
  writeFileSync(fileTwin, readFileSync(fileTwin, "utf8").replace(/listen: \S+/, `listen: ${listen}`));
  const twinStatus = await klink(["status", fileTwin]);
  expect(twinStatus.code).toBe(2);
  expect(twinStatus.stderr).toContain(`runs link '${linkA}' with link id ${answer.id}`);
  const twinPromote = await klink(["promote", fileTwin, topic, "--force"]);
  expect(twinPromote.code).toBe(2);
  expect(twinPromote.stderr).toContain(`with link id ${answer.id}`);

  // Without the link name (an old CLI, a bare curl) the running klink refuses too.
  const bare = await fetch(`http://${listen}/promote?name=${topic}&force=true`, { method: "POST" });
  expect(bare.ok).toBe(false);
  expect(((await bare.json()) as { message: string }).message).toContain(linkA);

  // Nothing was promoted: the topic is still mirrored, and still copied.
  expect((await klink(["status", fileA])).stdout).toContain(`${topic} (mirroring)`);
  await Bun.sleep(1_000);
  await load.stop();
  const marks = async (c: typeof source) => (await withAdmin(c(), (a) => a.watermarks([0, 1].map((partition) => ({ topic, partition }))))).map((m) => m.high);
  const sourceEnds = await marks(source);
  while ((await marks(target)).some((high, i) => high < sourceEnds[i]!)) await Bun.sleep(200);
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  running.delete(proc);
}, 200_000);
