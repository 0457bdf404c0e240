/**
 * A cluster that stops answering while klink runs (issue 13, item 3): the target's only broker is
 * paused (SIGSTOP: it keeps its connections open and answers nothing, as a hung machine does).
 * /readyz turns 503 naming the target, `klink status` exits 2 and says so, /metrics has
 * klink_cluster_reachable 0; once the broker goes on, all three are back to ready. And a SIGTERM
 * while the target does not answer: klink exits after its stop limit (or at a second signal)
 * saying why, and the next run copies everything exactly. The target is a cluster of this test's
 * own, so pausing it disturbs no other test.
 */
import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Producer } from "../../src/rdkafka/index.ts";
import { startCluster, stopCluster, type KafkaCluster } from "../harness/cluster.ts";
import { source, plain, uniqueName, withAdmin, until } from "../helpers.ts";
import { klink, writeMigration, KlinkRun, stopAllKlinks } from "./klink-process.ts";
import { exactDifferences } from "./exact-check.ts";

let paused: KafkaCluster | null = null;
let own: KafkaCluster | null = null;

afterAll(async () => {
  if (paused) for (const b of paused.brokers) process.kill(b.pid, "SIGCONT");
  await stopAllKlinks();
  if (own) await stopCluster(own);
});

test("a target that stops answering: readyz 503 naming it, status exit 2, klink_cluster_reachable 0; ready again when it answers", async () => {
  own ??= await startCluster({ name: "reachability-target", version: "4.3.1" });
  const topic = uniqueName("reach");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  const producer = new Producer(plain(source()));
  for (let i = 0; i < 20; i++) producer.produce({ topic, partition: 0, value: `v${i}` });
  await producer.flush();
  await producer.close();

  const file = writeMigration({ topics: [topic], linkName: uniqueName("reach"), to: own });
  const listen = /listen: (\S+)/.exec(readFileSync(file, "utf8"))![1]!;
  const get = async (path: string) => {
    try {
      const res = await fetch(`http://${listen}${path}`, { signal: AbortSignal.timeout(5_000) });
      return { code: res.status, text: await res.text() };
    } catch {
      return null;
    }
  };
  const run = new KlinkRun(file);
  await until("ready", async () => (await get("/readyz"))?.code === 200, 120_000, run);

  paused = own;
  for (const b of own.brokers) process.kill(b.pid, "SIGSTOP");
  let ready: { code: number; text: string } | null = null;
  await until("readyz naming the target", async () => ((ready = await get("/readyz")), ready?.code === 503 && ready.text.includes("the target cluster does not answer")), 120_000, run);
  expect(JSON.parse(ready!.text).reasons).toEqual([expect.stringMatching(/^the target cluster does not answer since \d{4}-\d\d-\d\dT/)]);
  const status = await klink(["status", file]);
  expect(status.code).toBe(2);
  expect(status.stdout).toContain("the target cluster does not answer since");
  expect((await get("/metrics"))!.text).toContain('klink_cluster_reachable{cluster="target"} 0\n');
  expect((await get("/metrics"))!.text).toContain('klink_cluster_reachable{cluster="source"} 1\n');

  for (const b of own.brokers) process.kill(b.pid, "SIGCONT");
  paused = null;
  await until("ready again", async () => (await get("/readyz"))?.code === 200, 120_000, run);
  expect((await klink(["status", file])).code).toBe(0);
  await run.stop();
}, 400_000);

/** The paused broker takes a while to lead its partitions again: wait until a new topic gets a leader. */
async function leadsAgain(c: KafkaCluster): Promise<void> {
  const probe = uniqueName("reach-probe");
  await withAdmin(c, (a) => a.createTopics([{ name: probe, partitions: 1 }]));
  for (const deadline = Date.now() + 180_000; ; await Bun.sleep(1_000)) {
    const ok = await withAdmin(c, (a) => a.watermarks([{ topic: probe, partition: 0 }])).then(() => true, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`cluster ${c.name} leads no partition 180 s after it was paused`);
  }
}

for (const signals of [1, 2]) {
  test(`SIGTERM${signals === 2 ? " twice" : ""} while the target does not answer: klink exits saying why; the next run copies everything exactly`, async () => {
    own ??= await startCluster({ name: "reachability-target", version: "4.3.1" });
    await leadsAgain(own);
    const topic = uniqueName("reach-stop");
    await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 2 }]));
    const file = writeMigration({ topics: [topic], linkName: uniqueName("reach-stop"), to: own });
    const run = new KlinkRun(file);
    for (const deadline = Date.now() + 120_000; !run.output.includes("mirroring 1 topic"); await Bun.sleep(200)) {
      if (Date.now() > deadline || run.exited) throw new Error(`klink did not start\n${run.summary()}`);
    }
    paused = own;
    for (const b of own.brokers) process.kill(b.pid, "SIGSTOP");
    const producer = new Producer(plain(source()));
    for (let i = 0; i < 5_000; i++) producer.produce({ topic, partition: i % 2, value: `v${i}` });
    await producer.flush();
    await producer.close();
    await Bun.sleep(3_000); // klink has records in flight to the paused target now

    run.proc.kill("SIGTERM");
    if (signals === 2) {
      while (!run.output.includes("SIGTERM: stopping")) await Bun.sleep(100);
      run.proc.kill("SIGTERM");
    }
    const hard = setTimeout(() => run.proc.kill("SIGKILL"), 150_000); // before the fix: a minute or more, then "stopped" partitions
    await run.proc.exited;
    clearTimeout(hard);
    await run.stop();
    expect(run.proc.signalCode).toBeNull();
    expect(run.proc.exitCode).toBe(2);
    expect(run.output).toContain(signals === 2 ? "SIGTERM again: exiting now" : "still stopping after 30 s");
    expect(run.output).not.toContain("STOPPED"); // the stop is not reported as stopped partitions

    for (const b of own.brokers) process.kill(b.pid, "SIGCONT");
    paused = null;
    expect((await klink(["run", file, "--until-caught-up"])).code).toBe(0);
    expect(await exactDifferences(source(), own, topic, 2)).toEqual([]);
  }, 400_000);
}
