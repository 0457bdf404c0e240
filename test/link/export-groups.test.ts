/**
 * Groups klink does not hand off (issue 18): `klink offsets export-groups` writes per-group
 * offset files that Kafka's own kafka-consumer-groups tool applies on the target with
 * --reset-offsets --from-file; where offsets differ (translate mode) the file holds target
 * offsets. The oracle is the tool's --describe on the target. `klink plan` lists the partitions
 * whose offsets the target lacks, and none once the tool applied the file.
 */
import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Consumer, Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import { consumerGroupsTool, stopAllTools } from "../harness/tools.ts";
import { klink, writeMigration } from "./klink-process.ts";

afterAll(stopAllTools);

async function produce(cluster: ReturnType<typeof source>, topic: string, count: number, prefix = "v"): Promise<void> {
  const producer = new Producer(plain(cluster));
  for (let i = 0; i < count; i++) producer.produce({ topic, partition: 0, key: `k${i}`, value: `${prefix}${i}` });
  await producer.flush();
  await producer.close();
}

test("export-groups: a group not handed off gets an offset file kafka-consumer-groups applies on the target, translated where offsets differ", async () => {
  const exact = uniqueName("export-groups-exact");
  const shifted = uniqueName("export-groups-shifted");
  await withAdmin(source(), (a) => a.createTopics([{ name: exact, partitions: 1 }, { name: shifted, partitions: 1 }]));
  await produce(source(), exact, 100);
  await produce(source(), shifted, 100);
  // 5 records of the target's own before klink copies: the copies land 5 offsets higher (translate mode)
  await withAdmin(target(), (a) => a.createTopics([{ name: shifted, partitions: 1 }]));
  await produce(target(), shifted, 5, "target's own ");

  const group = uniqueName("export-groups-app");
  const consumer = new Consumer(plain(source(), { "group.id": group }));
  consumer.commit([{ topic: exact, partition: 0, offset: 30 }, { topic: shifted, partition: 0, offset: 60 }]);
  await consumer.close();

  const file = writeMigration({ topics: [exact, shifted], linkName: uniqueName("export-groups") });
  const run = await klink(["run", file, "--until-caught-up"]);
  if (run.code !== 0) console.error(run.stderr);
  expect(run.code).toBe(0);

  // plan lists the group's partitions whose offsets the target lacks, where it would resume there
  const planned = async () => JSON.parse((await klink(["plan", file, "--json"])).stdout).groupOffsets.groups.find((g: { group: string }) => g.group === group);
  expect(await planned()).toEqual({
    group, why: "not under groups:", partitions: 2,
    differ: [{ topic: exact, partition: 0, sourceOffset: 30, targetOffset: 30, onTarget: null }, { topic: shifted, partition: 0, sourceOffset: 60, targetOffset: 65, onTarget: null }].sort((a, b) => a.topic.localeCompare(b.topic)),
  });
  expect((await klink(["plan", file])).stdout).toContain(`${shifted}[0]  committed on the source 60 = target offset 65; committed on the target: none`);

  const dir = join(dirname(file), "group-offsets");
  const exported = await klink(["offsets", "export-groups", file, "--out", dir, "--json"]);
  expect(exported.code).toBe(0);
  const mine = JSON.parse(exported.stdout).groups.find((g: { group: string }) => g.group === group);
  expect(mine.why).toBe("not under groups:");
  expect(readFileSync(mine.file, "utf8")).toBe(`${exact},0,30\n${shifted},0,65\n`);

  await consumerGroupsTool(target(), ["--group", group, "--reset-offsets", "--from-file", mine.file, "--execute"]);
  const described = await consumerGroupsTool(target(), ["--describe", "--group", group]);
  // GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...
  const current = Object.fromEntries(described.stdout.map((l) => l.trim().split(/\s+/)).filter((f) => f[0] === group).map((f) => [f[1], f[3]]));
  expect(current).toEqual({ [exact]: "30", [shifted]: "65" });
  // the target has them now: plan lists no difference
  expect(await planned()).toMatchObject({ group, partitions: 2, differ: [] });
}, 300_000);
