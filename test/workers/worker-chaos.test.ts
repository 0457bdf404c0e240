/**
 * Faults in an order nobody designed: for about a minute, every 1-3 s one of — start a worker,
 * SIGKILL one, SIGTERM one, SIGSTOP one for 1-9 s (past or within its 6 s session) — on up to five
 * worker processes sharing 12 partitions on the real target cluster (seeded: KLINK_CHAOS_SEED
 * repeats a run). Then every paused worker is resumed and the group must settle: the running
 * workers own every partition once, in balanced shares, and no partition ever had two owners at
 * once (the judge reads every process's event log on one clock: worker-procs.ts).
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { target, uniqueName, until } from "../helpers.ts";
import { balanced, expectNoOverlap, killAll, report, Worker } from "./worker-procs.ts";

setDefaultTimeout(300_000);

const workers: Worker[] = [];
afterAll(() => killAll(workers));

test("random joins, kills, SIGTERMs and pauses: never two owners of a partition, and the survivors settle on all of them", async () => {
  const seed = Number(process.env.KLINK_CHAOS_SEED ?? Date.now() % 1_000_000);
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const bootstrap = target().bootstrap;
  const group = uniqueName("klink-chaos");
  const stoppedUntil = new Map<Worker, number>();
  /** A worker just resumed has not yet told (in its log) that its lease ended: not a victim for a while. */
  const resumedAt = new Map<Worker, number>();
  const log: string[] = [`seed ${seed}`];
  const alive = () => workers.filter((w) => !w.exited);
  const running = () => alive().filter((w) => !stoppedUntil.has(w) && Date.now() - (resumedAt.get(w) ?? 0) > 3_000);
  const spawn = () => {
    const w = new Worker(bootstrap, group);
    workers.push(w);
    return w;
  };

  spawn();
  spawn();
  const until60s = Date.now() + 60_000;
  while (Date.now() < until60s) {
    await Bun.sleep(1_000 + random() * 2_000);
    for (const [w, t] of stoppedUntil) {
      if (Date.now() < t) continue;
      process.kill(w.pid, "SIGCONT");
      stoppedUntil.delete(w);
      resumedAt.set(w, Date.now());
      log.push(`SIGCONT ${w.pid}`);
    }
    const action = pick(["start", "start", "kill", "term", "stop", "stop"]);
    const victims = running();
    if (action === "start" || victims.length < 2) {
      if (alive().length < 5) log.push(`start ${spawn().pid}`);
      continue;
    }
    const w = pick(victims);
    if (action === "kill") {
      const at = Date.now();
      w.proc.kill("SIGKILL");
      await w.proc.exited;
      w.endAll(at);
      log.push(`SIGKILL ${w.pid}`);
    } else if (action === "term") {
      w.proc.kill("SIGTERM");
      log.push(`SIGTERM ${w.pid}`);
    } else {
      const ms = 1_000 + Math.floor(random() * 8_000);
      process.kill(w.pid, "SIGSTOP");
      stoppedUntil.set(w, Date.now() + ms);
      log.push(`SIGSTOP ${w.pid} for ${ms} ms`);
    }
  }
  for (const w of stoppedUntil.keys()) process.kill(w.pid, "SIGCONT");
  stoppedUntil.clear();
  while (alive().length < 2) spawn();
  const summary = report(workers);
  const withLog = { exited: false, summary: () => `${log.join("; ")}\n${summary.summary()}` };
  await until("the running workers own every partition once, in balanced shares", () => balanced(alive()), 90_000, withLog);
  try {
    expectNoOverlap(workers);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${withLog.summary()}`);
  }
  expect(workers.filter((w) => w.exited && w.proc.exitCode !== 0 && w.proc.signalCode !== "SIGKILL").map((w) => w.summary())).toEqual([]);
  console.log(`chaos: ${log.join("; ")}`);
});
