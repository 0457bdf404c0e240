import { test, expect, afterAll } from "bun:test";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import { getCluster } from "../harness/state.ts";
import { killBroker, restartBroker, type KafkaCluster } from "../harness/cluster.ts";
import { writeMigration, spawnKlink, klink } from "./klink-process.ts";
import { exactDifferences } from "./exact-check.ts";

const running = new Set<ReturnType<typeof spawnKlink>>();
afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
});

/**
 * Mirrors `from` → `to` while a producer writes to `from`; mid-run the leader of partition 0 on
 * `failing` is killed (SIGKILL) and restarted. klink must ride it out: no partition stops, and the
 * target ends identical at identical offsets.
 */
async function mirrorThroughFailover(from: KafkaCluster, to: KafkaCluster, failing: KafkaCluster) {
  const topic = uniqueName("failover");
  await withAdmin(from, (a) => a.createTopics([{ name: topic, partitions: 3, replicationFactor: from.brokers.length }]));
  const file = writeMigration({ topics: [topic], linkName: uniqueName("failover"), from, to });

  let producing = true;
  let produced = 0;
  const producer = new Producer(plain(from, { "linger.ms": 2, acks: "all" }));
  const load = (async () => {
    while (producing) {
      for (let i = 0; i < 200; i++) {
        try {
          producer.produce({ topic, key: `k${produced}`, value: `v${produced}`.padEnd(300, "x") });
          produced++;
        } catch {
          producer.poll();
        }
      }
      await Bun.sleep(10);
    }
    await producer.flush(120_000);
  })();

  const proc = spawnKlink(["run", file]);
  running.add(proc);
  await Bun.sleep(4_000);
  const [desc] = await withAdmin(failing, (a) => a.describeTopics([topic]).catch(() => [undefined as never]));
  const leader = desc?.partitions.find((p) => p.partition === 0)?.leader?.id ?? failing.brokers[0]!.nodeId;
  await killBroker(failing, leader, "SIGKILL");
  await Bun.sleep(3_000);
  await restartBroker(failing, leader);
  await Bun.sleep(3_000);
  producing = false;
  await load;
  await producer.close();
  proc.kill("SIGTERM");
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  running.delete(proc);
  if (code !== 0) console.error(stderr);
  expect(stderr).not.toContain("stopped:");
  expect(code).toBe(0);

  const rest = await klink(["run", file, "--until-caught-up"]);
  expect(rest.stderr).not.toContain("stopped:");
  expect(rest.code).toBe(0);
  expect(await exactDifferences(from, to, topic, 3)).toEqual([]); // read with our own consumer
  const verify = await klink(["verify", file]);
  expect(verify.stdout).toContain(`identical: ${produced} records in 3 partitions`);
  expect(verify.code).toBe(0);
}

test("the source partition leader of a three-broker source is killed mid-run", async () => {
  const three = getCluster("three");
  await mirrorThroughFailover(three, target(), three);
}, 600_000);

test("the target partition leader of a three-broker target is killed mid-run", async () => {
  const three = getCluster("three");
  await mirrorThroughFailover(source(), three, three);
}, 600_000);
