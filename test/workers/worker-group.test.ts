/**
 * The worker group on the real target cluster: four worker processes (worker-proc.ts) share 12
 * partitions; one joins, one stops with SIGTERM, one is killed (SIGKILL), one is paused (SIGSTOP)
 * past its session timeout. The judge is the event log of every process on one clock: for each
 * partition the ownership intervals (assigned → revoked, or → the end of the lease a lost worker
 * reports, or → its kill) never overlap, and the coordinator (DescribeGroups) agrees at the end.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { describeGroup, GroupClient } from "../../src/group/index.ts";
import { target, uniqueName, until } from "../helpers.ts";
import { balanced, expectNoOverlap, killAll, PARTITIONS, report, SESSION_MS, Worker } from "./worker-procs.ts";

setDefaultTimeout(240_000);

const workers: Worker[] = [];
afterAll(() => killAll(workers));

/** When every one of `partitions` had been assigned to one of `ws` (the last of those times). */
function takenOverAt(ws: Worker[], partitions: string[], after: number): number {
  return Math.max(...partitions.map((p) => Math.min(...ws.flatMap((w) => w.intervals.filter((i) => i.partition === p && i.from >= after).map((i) => i.from)))));
}

describe("worker group (Kafka's group protocol on the target)", () => {
  test("join, SIGTERM, kill -9 and SIGSTOP past the session: every partition always has at most one owner, and all are owned at the end", async () => {
    const bootstrap = target().bootstrap;
    const group = uniqueName("klink-workers");
    const spawn = () => {
      const w = new Worker(bootstrap, group);
      workers.push(w);
      return w;
    };
    const [w1, w2, w3] = [spawn(), spawn(), spawn()];
    await until("3 workers own 4 partitions each", () => balanced([w1, w2, w3], 4), 60_000, report(workers));

    // a fourth joins: each of the three gives up exactly one partition, nothing else moves
    const assignedBefore = [w1, w2, w3].map((w) => w.intervals.length);
    const revokedSince = (w: Worker, from: number) => w.events.slice(from).filter((e) => e.type === "revoked").flatMap((e) => e.partitions).length;
    const eventsBefore = [w1, w2, w3].map((w) => w.events.length);
    const w4 = spawn();
    await until("4 workers own 3 partitions each", () => balanced([w1, w2, w3, w4], 3), 60_000, report(workers));
    expect([w1, w2, w3].map((w) => w.intervals.length)).toEqual(assignedBefore);
    expect([w1, w2, w3].map((w, i) => revokedSince(w, eventsBefore[i]!))).toEqual([1, 1, 1]);

    // SIGTERM: the worker lets go and leaves; the others take over without waiting for its session
    const w2Partitions = [...w2.owned];
    const termAt = Date.now();
    w2.proc.kill("SIGTERM");
    await until("3 workers own 4 each after the SIGTERM", () => w2.exited && balanced([w1, w3, w4], 4), 60_000, report(workers));
    expect(w2.proc.exitCode).toBe(0);
    const afterTerm = takenOverAt([w1, w3, w4], w2Partitions, termAt) - termAt;

    // kill -9: its partitions move once the coordinator drops it (session timeout)
    const w3Partitions = [...w3.owned];
    const killAt = Date.now();
    w3.proc.kill("SIGKILL");
    await w3.proc.exited;
    w3.endAll(killAt);
    await until("2 workers own 6 each after the kill", () => balanced([w1, w4], 6), 60_000, report(workers));
    const afterKill = takenOverAt([w1, w4], w3Partitions, killAt) - killAt;

    // SIGSTOP past the session timeout: w4 takes everything; w1 wakes, finds its lease over, rejoins
    const stopAt = Date.now();
    process.kill(w1.pid, "SIGSTOP");
    await until("w4 owns all 12 while w1 is paused", () => w4.owned.size === PARTITIONS, 60_000, report(workers));
    const afterPause = Date.now() - stopAt;
    await Bun.sleep(2_000);
    process.kill(w1.pid, "SIGCONT");
    await until("w1 reports its lease lost, and the two share the partitions again", () => w1.events.some((e) => e.type === "lost") && balanced([w1, w4], 6), 60_000, report(workers));
    // the paused worker did not make the other's lease run out while it waited for the rebalance
    expect(w4.events.filter((e) => e.type === "lost")).toEqual([]);

    // the judge: per partition, no two ownership intervals overlap
    expectNoOverlap(workers);

    // the paused worker's lease had ended within a session timeout of its pause
    const lost = w1.events.find((e) => e.type === "lost");
    expect(lost.partitions).toHaveLength(6);
    expect(lost.leaseEndedAt).toBeLessThan(stopAt + SESSION_MS);

    // the coordinator agrees: a Stable klink-worker group of the 2 survivors
    const client = new GroupClient({ config: { "bootstrap.servers": bootstrap } });
    try {
      const d = await describeGroup(client, group);
      expect({ state: d.state, protocolType: d.protocolType, protocol: d.protocol, members: d.members.length }).toEqual({ state: "Stable", protocolType: "klink-worker", protocol: "klink-cooperative-v1", members: 2 });
    } finally {
      client.close();
    }
    console.log(`handover: after SIGTERM ${afterTerm} ms, after kill -9 ${afterKill} ms, after SIGSTOP (all 12 on the other worker) ${afterPause} ms; session timeout ${SESSION_MS} ms`);
  });
});
