/**
 * A cluster that stops answering while klink runs (issue 13, item 3): the target's only broker is
 * paused (SIGSTOP: it keeps its connections open and answers nothing, as a hung machine does).
 * /readyz turns 503 naming the target, `klink status` exits 2 and says so, /metrics has
 * klink_cluster_reachable 0; once the broker goes on, all three are back to ready. The target is a
 * cluster of this test's own, so pausing it disturbs no other test.
 */
import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Producer } from "../../src/rdkafka/index.ts";
import { startCluster, stopCluster, type KafkaCluster } from "../harness/cluster.ts";
import { source, plain, uniqueName, withAdmin } from "../helpers.ts";
import { klink, writeMigration, KlinkRun, stopAllKlinks } from "./klink-process.ts";

let paused: KafkaCluster | null = null;
let own: KafkaCluster | null = null;

afterAll(async () => {
  if (paused) for (const b of paused.brokers) process.kill(b.pid, "SIGCONT");
  await stopAllKlinks();
  if (own) await stopCluster(own);
});

test("a target that stops answering: readyz 503 naming it, status exit 2, klink_cluster_reachable 0; ready again when it answers", async () => {
  own = await startCluster({ name: "reachability-target", version: "4.3.1" });
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
  const until = async (what: string, ok: () => Promise<boolean>) => {
    const deadline = Date.now() + 120_000;
    while (!(await ok())) {
      if (Date.now() > deadline || run.exited) throw new Error(`${what} did not happen\n${run.summary()}`);
      await Bun.sleep(500);
    }
  };
  await until("ready", async () => (await get("/readyz"))?.code === 200);

  paused = own;
  for (const b of own.brokers) process.kill(b.pid, "SIGSTOP");
  let ready: { code: number; text: string } | null = null;
  await until("readyz naming the target", async () => ((ready = await get("/readyz")), ready?.code === 503 && ready.text.includes("the target cluster does not answer")));
  expect(JSON.parse(ready!.text).reasons).toEqual([expect.stringMatching(/^the target cluster does not answer since \d{4}-\d\d-\d\dT/)]);
  const status = await klink(["status", file]);
  expect(status.code).toBe(2);
  expect(status.stdout).toContain("the target cluster does not answer since");
  expect((await get("/metrics"))!.text).toContain('klink_cluster_reachable{cluster="target"} 0\n');
  expect((await get("/metrics"))!.text).toContain('klink_cluster_reachable{cluster="source"} 1\n');

  for (const b of own.brokers) process.kill(b.pid, "SIGCONT");
  paused = null;
  await until("ready again", async () => (await get("/readyz"))?.code === 200);
  expect((await klink(["status", file])).code).toBe(0);
  await run.stop();
}, 400_000);
