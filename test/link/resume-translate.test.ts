/**
 * `klink resume` on a partition stopped in translate mode, in dual write (issue 13, item 4): the
 * target topic held a record klink did not write (translate mode), a source record too large for
 * the target stops the partition, and producers keep writing to both clusters while it is stopped.
 * Once the target accepts the record, resume continues the partition in the running klink; each
 * record is then on both clusters exactly once, in its producer's order (read with the test's own
 * consumer, not klink's state).
 */
import { afterAll, expect, test } from "bun:test";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import { klink, writeMigration, KlinkRun, stopAllKlinks } from "./klink-process.ts";
import { readTopic } from "./dual-write-workload.ts";
import type { KafkaCluster } from "../harness/cluster.ts";

afterAll(stopAllKlinks);

async function produce(cluster: KafkaCluster, topic: string, values: Buffer[]): Promise<void> {
  const producer = new Producer(plain(cluster, { "enable.idempotence": true, "linger.ms": 5 }));
  for (const value of values) producer.produce({ topic, partition: 0, value });
  await producer.flush();
  await producer.close();
}
const text = (prefix: string, n: number, from = 0) => Array.from({ length: n }, (_, i) => Buffer.from(`${prefix}${from + i}`));
const values = async (cluster: KafkaCluster, topic: string) => (await readTopic(cluster, topic)).map((r) => r.value!.toString());

test("resume continues a partition stopped in translate mode, in dual write: every record once on each cluster", async () => {
  const topic = uniqueName("resume-translate");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1, configs: { "max.message.bytes": "200000" } }]));
  await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 1, configs: { "max.message.bytes": "20000" } }]));
  await produce(target(), topic, [Buffer.from("foreign")]); // the target holds data klink did not write: translate mode
  const big = Buffer.alloc(100_000, "b");
  await produce(source(), topic, [...text("s", 100), big, ...text("s", 50, 100)]); // source offset 100 is too large for the target

  const file = writeMigration({ topics: [topic], linkName: uniqueName("resume-translate") });
  const run = new KlinkRun(file);
  try {
    let status = await klink(["status", file]);
    for (const deadline = Date.now() + 120_000; !status.stdout.includes(`${topic}[0] STOPPED`); status = await klink(["status", file])) {
      if (Date.now() > deadline || run.exited) throw new Error(`the partition did not stop\n${run.summary()}`);
      await Bun.sleep(500);
    }
    // While it is stopped, producers write to both clusters (a producer moved to the target: dual write).
    await produce(target(), topic, text("t", 40));
    await produce(source(), topic, text("s", 30, 150));

    await withAdmin(target(), (a) => a.incrementalAlterTopicConfigs(topic, [{ name: "max.message.bytes", value: "200000" }]));
    const resumed = await klink(["resume", file, `${topic}:0`]);
    expect(resumed.stderr).toBe("");
    expect(resumed.stdout).toStartWith(`${topic}[0]: resumed at source offset`);
    expect(resumed.code).toBe(0);

    const sourceValues = [...text("s", 100), big, ...text("s", 80, 100)].map((b) => b.toString());
    const targetValues = text("t", 40).map((b) => b.toString());
    const wanted = [...sourceValues, ...targetValues];
    let s: string[] = [];
    let t: string[] = [];
    for (const deadline = Date.now() + 120_000; ; await Bun.sleep(500)) {
      [s, t] = await Promise.all([values(source(), topic), values(target(), topic)]);
      if (wanted.every((v) => s.includes(v) && t.includes(v))) break;
      if (Date.now() > deadline || run.exited) throw new Error(`not every record reached both clusters\n${run.summary()}`);
    }
    await Bun.sleep(3_000); // duplicates would come now, if any
    [s, t] = await Promise.all([values(source(), topic), values(target(), topic)]);
    for (const side of [s, t]) {
      expect(side.filter((v) => v !== "foreign" && !v.startsWith("t"))).toEqual(sourceValues);
      expect(side.filter((v) => v.startsWith("t"))).toEqual(targetValues);
    }
    expect(t.filter((v) => v === "foreign")).toHaveLength(1);
    expect(s).not.toContain("foreign");
    expect((await klink(["status", file])).code).toBe(0);
  } finally {
    await run.stop();
  }
  expect(run.proc.exitCode).toBe(0);
}, 400_000);
