/**
 * link.standby (#15, docs/workers.md "Standby"): several `klink run` of one link (storage/kafka)
 * form its worker group; one copies, the others wait. kill -9 of the one that copies: a waiting
 * one takes over after the session timeout; SIGTERM: the next one takes over at once. The oracle
 * reads both clusters with a test consumer: every record once, at its source offset.
 */
import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { source, target, uniqueName, until, withAdmin } from "../helpers.ts";
import { caughtUp, klink, runInBackground, spawnKlink, statusWhenRunning, steadyProducer, writeMigration } from "./klink-process.ts";
import { expectExactCopy } from "./exact-copy.ts";

const running = new Set<ReturnType<typeof spawnKlink>>();
afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
});

const start = (file: string) => runInBackground(file, running);
const listenOf = (file: string) => /listen: (\S+)/.exec(readFileSync(file, "utf8"))![1]!;

/** A topic of 3 partitions written steadily, a standby link on it, A running it and B standing by. */
async function activeAndStandby(prefix: string, targetLibrdkafka?: string) {
  const topic = uniqueName(prefix);
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 3 }]));
  const link = uniqueName(prefix);
  const file = () => writeMigration({ topics: [topic], linkName: link, linkExtra: "  standby: true\n", extra: "storage:\n  plugin: kafka\n", targetLibrdkafka });
  const load = steadyProducer(source(), topic, 3);
  const a = start(file());
  await statusWhenRunning(a.file);
  await until("A runs the link", () => a.log().includes(`this klink runs link ${link}`), 60_000, a.status);
  const b = start(file());
  await until("B stands by", () => b.log().includes("standby: another klink runs link"), 60_000, b.status);
  return { topic, link, file, load, a, b };
}

test("link.standby: a second run waits while the first copies; after kill -9 it takes over, after SIGTERM a third at once; every record once, at its source offset", async () => {
  const { topic, link, file, load, a, b } = await activeAndStandby("standby");
  // klink status lists both klinks (by the pids the test started) and says which one copies
  const roles = new RegExp(`pid ${a.proc.pid} on host .*: runs the link\\n.*pid ${b.proc.pid} on host .*: standby`);
  let listed = "";
  for (const deadline = Date.now() + 30_000; !roles.test(listed) && Date.now() < deadline; await Bun.sleep(500)) listed = (await klink(["status", a.file])).stdout;
  expect(listed).toMatch(roles);
  const metrics = await (await fetch(`http://${listenOf(a.file)}/metrics`)).text();
  expect(metrics).toContain(`pid="${a.proc.pid}"`);
  expect(metrics).toMatch(new RegExp(`klink_worker\\{[^}]*pid="${b.proc.pid}"[^}]*role="standby"\\} 1`));
  const atStandby = await klink(["status", b.file]);
  expect(atStandby.code).toBe(2);
  expect(atStandby.stderr).toContain(`the link runs on pid ${a.proc.pid} on host`);
  await Bun.sleep(3_000);
  expect(a.proc.exitCode).toBeNull(); // no takeover while A runs
  expect(b.log()).not.toContain("this klink runs link");

  const killedAt = Date.now();
  a.proc.kill("SIGKILL");
  await a.exited;
  await until("B takes over after A's kill -9", () => b.log().includes(`this klink runs link ${link}`), 120_000, b.status);
  const afterKill = Date.now() - killedAt;
  await statusWhenRunning(b.file);

  const c = start(file());
  await until("C stands by", () => c.log().includes("standby: another klink runs link"), 60_000, c.status);
  const termAt = Date.now();
  b.proc.kill("SIGTERM");
  expect(await b.exited).toBe(0);
  await until("C takes over after B's SIGTERM", () => c.log().includes(`this klink runs link ${link}`), 60_000, c.status);
  const afterTerm = Date.now() - termAt;
  await statusWhenRunning(c.file);
  await Bun.sleep(2_000); // C copies while the producer goes on

  const produced = await load.stop();
  c.proc.kill("SIGTERM");
  expect(await c.exited).toBe(0);
  const last = await klink(["run", c.file, "--until-caught-up"]);
  expect(last.code).toBe(0);
  await expectExactCopy(topic, produced);
  console.log(`standby took over ${afterKill} ms after kill -9, ${afterTerm} ms after SIGTERM (from the signal to its "runs link" line)`);
}, 300_000);

test("link.standby: the running klink paused (SIGSTOP) past its lease: the standby takes over; the paused one wakes, writes nothing more, says why and exits 2; every record once, at its source offset", async () => {
  // linger.ms 3 s on the target: at the pause, A's producer holds up to 3 s of records it has not
  // sent (400 small records a second fill no batch sooner). Only the message timeout keeps them
  // from the target when A wakes; without it they land after B's copies (docs/workers.md).
  const { topic, link, load, a, b } = await activeAndStandby("standby-pause", "linger.ms: 3000");
  await Bun.sleep(4_000); // A copies, with records in flight

  const stoppedAt = Date.now();
  process.kill(a.proc.pid, "SIGSTOP");
  await until("B takes over from the paused A", () => b.log().includes(`this klink runs link ${link}`), 120_000, b.status);
  const takeover = Date.now() - stoppedAt;
  await statusWhenRunning(b.file);
  expect(b.log()).toContain("did not let go of it cleanly: waiting");
  await Bun.sleep(3_000); // B copies while A is still paused
  process.kill(a.proc.pid, "SIGCONT");
  expect(await a.exited).toBe(2);
  expect(a.log()).toMatch(/lease|fenced/);
  await Bun.sleep(2_000); // B goes on after A woke up

  const produced = await load.stop();
  b.proc.kill("SIGTERM");
  expect(await b.exited).toBe(0);
  const last = await klink(["run", b.file, "--until-caught-up"]);
  expect(last.code).toBe(0);
  await expectExactCopy(topic, produced);
  console.log(`standby took over ${takeover} ms after the SIGSTOP`);
}, 300_000);

test("link.standby: commands sent to the standby (with its own token) take effect at the klink that runs the link; a forwarded promote stops the copy", async () => {
  const { topic, link, load, a, b } = await activeAndStandby("standby-forward");
  const tokenOf = (file: string) => readFileSync(join(dirname(file), "migration.klink.token"), "utf8").trim();
  const promoteAt = (file: string, bearer: string) =>
    fetch(`http://${listenOf(file)}/promote?${new URLSearchParams({ link, name: topic, force: "false" })}`, { method: "POST", headers: { authorization: `Bearer ${bearer}` } });

  // the standby checks the operator's token itself: A's token is not B's, and nothing reaches A
  const wrong = await promoteAt(b.file, tokenOf(a.file));
  expect(wrong.status).toBe(401);
  expect(a.log()).not.toContain("forwarding from the standby");

  // a producer still writes: A refuses the promote, and says why, through B
  let refused = { code: -1, stdout: "", stderr: "" };
  const answeredByA = `answered by the klink that runs the link (pid ${a.proc.pid} on host`;
  for (const deadline = Date.now() + 30_000; !refused.stderr.includes(answeredByA) && Date.now() < deadline; await Bun.sleep(1_000)) {
    refused = await klink(["promote", b.file, topic]); // until B's view of the worker group names A
  }
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain(answeredByA);
  expect(refused.stderr).toContain("a producer may still write");
  expect(a.log()).toMatch(new RegExp(`control: promote "${topic}" asked by .*forwarding from the standby pid ${b.proc.pid}`));

  const produced = await load.stop();
  await caughtUp(topic, 3);
  await Bun.sleep(11_000); // promote waits for 10 s without records from the source
  const promoted = await klink(["promote", b.file, topic]);
  expect(promoted.stderr).toBe("");
  expect(promoted.code).toBe(0);
  expect(promoted.stdout).toContain(`${topic}: promoted`);
  await expectExactCopy(topic, produced);

  // the oracle: records written to the source afterwards are not copied (the target's ends stay)
  const ends = (c: typeof source) => withAdmin(c(), (admin) => admin.watermarks([0, 1, 2].map((partition) => ({ topic, partition })))).then((w) => w.map((m) => m.high));
  const targetEnds = await ends(target);
  const more = steadyProducer(source(), topic, 3);
  await Bun.sleep(3_000);
  const after = produced + (await more.stop());
  await Bun.sleep(5_000);
  expect((await ends(source)).reduce((x, y) => x + y, 0)).toBe(after);
  expect(await ends(target)).toEqual(targetEnds);
  expect(a.proc.exitCode).toBeNull();
  b.proc.kill("SIGTERM");
  a.proc.kill("SIGTERM");
  expect(await b.exited).toBe(0);
  expect(await a.exited).toBe(0);
}, 300_000);

test("link.standby without storage: kafka is refused by validate, naming the key", async () => {
  const file = writeMigration({ topics: ["t"], linkName: uniqueName("standby"), linkExtra: "  standby: true\n" });
  const r = await klink(["validate", file]);
  expect(r.code).toBe(1);
  expect(r.stdout + r.stderr).toContain("link.standby: needs storage: { plugin: kafka }");
}, 60_000);
