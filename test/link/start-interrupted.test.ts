/**
 * A topic whose start a cluster interrupts (here: its only partition's leader is down, so its
 * offsets cannot be read) waits and is tried again; the other topics start and copy meanwhile.
 * Before, the first such error ended `klink run` (a target still creating 1,000 topics answered
 * NOT_LEADER_FOR_PARTITION for longer than klink's 30-s wait: bench/partitions.ts).
 * Uses the shared three-broker cluster as the source and kills one of its brokers (restarted after).
 */
import { afterAll, expect, test } from "bun:test";
import { Producer } from "../../src/rdkafka/index.ts";
import { getCluster } from "../harness/state.ts";
import { killBroker, restartBroker, type KafkaCluster } from "../harness/cluster.ts";
import { plain, target, uniqueName, until, withAdmin } from "../helpers.ts";
import { KlinkRun, stopAllKlinks, writeMigration } from "./klink-process.ts";

let down: { cluster: KafkaCluster; node: number } | null = null;

afterAll(async () => {
  await stopAllKlinks();
  if (down) await restartBroker(down.cluster, down.node);
});

async function produce(c: KafkaCluster, topic: string, count: number): Promise<void> {
  const producer = new Producer(plain(c, { acks: "all" }));
  for (let i = 0; i < count; i++) producer.produce({ topic, partition: 0, key: `k${i}`, value: `v${i}` });
  await producer.flush();
  await producer.close();
}

const targetEnd = async (topic: string) => (await withAdmin(target(), (a) => a.watermarks([{ topic, partition: 0 }])).catch(() => [{ high: -1 }]))[0]!.high;

test("a topic whose source partition has no leader at start waits and starts later; the others copy meanwhile", async () => {
  const three = getCluster("three");
  const healthy = uniqueName("start-copies");
  await withAdmin(three, (a) => a.createTopics([{ name: healthy, partitions: 1, replicationFactor: 3 }]));
  // The topic that waits: its one replica on a broker that is not the controller (librdkafka's
  // describe-cluster at klink's start waits for the controller).
  const controller = (await withAdmin(three, (a) => a.describeCluster())).controller?.id;
  let waiting = "";
  let leader = -1;
  for (let i = 0; i < 8 && (leader < 0 || leader === controller); i++) {
    waiting = uniqueName("start-waits");
    await withAdmin(three, (a) => a.createTopics([{ name: waiting, partitions: 1, replicationFactor: 1 }]));
    const name = waiting;
    await until(`${name} has a leader`, async () => {
      const [desc] = await withAdmin(three, (a) => a.describeTopics([name])).catch(() => [undefined]);
      leader = desc?.partitions[0]?.leader?.id ?? -1;
      return leader >= 0;
    });
  }
  expect(leader).not.toBe(controller);
  await produce(three, waiting, 10);
  await produce(three, healthy, 10);

  await killBroker(three, leader, "SIGKILL");
  down = { cluster: three, node: leader };
  // The cluster fences the broker after its session timeout; until then metadata may still name
  // it (as a leader, or as the controller that librdkafka's admin requests wait for).
  await until(`broker ${leader} fenced`, async () => {
    const [desc] = await withAdmin(three, (a) => a.describeTopics([waiting])).catch(() => [undefined]);
    return desc !== undefined && desc.partitions[0]!.leader === null;
  }, 60_000);
  const file = writeMigration({ topics: [waiting, healthy], linkName: uniqueName("start-interrupted"), from: three, offsets: "exact" });
  const run = new KlinkRun(file);
  await until(`${waiting} interrupted while starting`, () => run.output.includes(`${waiting}: interrupted while starting`), 180_000, run);
  await until(`${healthy} copied while ${waiting} waits`, async () => (await targetEnd(healthy)) === 10, 120_000, run);
  expect(await targetEnd(waiting)).toBeLessThan(10);

  await restartBroker(three, leader);
  down = null;
  await until(`${waiting} copied once its leader is back`, async () => (await targetEnd(waiting)) === 10, 240_000, run);
  expect(run.output).toContain(`${waiting}: started; copying 1 partitions`);
  await run.stop();
  expect(run.proc.exitCode).toBe(0);
}, 600_000);
