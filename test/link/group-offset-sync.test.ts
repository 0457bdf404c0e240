/**
 * Continuous group offset sync (issue 18, link.groupOffsetSync): a group klink does not hand off
 * commits on the source; its committed offsets follow on the target while the group has no
 * members there, never while it has, and never backwards. The oracle reads the target group's
 * committed offsets with the test's own Admin.
 */
import { afterAll, expect, test } from "bun:test";
import { Consumer, Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, until, withAdmin } from "../helpers.ts";
import { KlinkRun, stopAllKlinks, writeMigration } from "./klink-process.ts";

afterAll(stopAllKlinks);

test("committed offsets of a group not handed off follow on the target while it is inactive there; never for an active group, never backwards", async () => {
  const topic = uniqueName("group-sync");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  const producer = new Producer(plain(source()));
  for (let i = 0; i < 100; i++) producer.produce({ topic, partition: 0, key: `k${i}`, value: `v${i}` });
  await producer.flush();
  await producer.close();

  const group = uniqueName("group-sync-app");
  const onSource = new Consumer(plain(source(), { "group.id": group }));
  const commitOnSource = (offset: number) => onSource.commit([{ topic, partition: 0, offset }]);
  const onTarget = async () => (await withAdmin(target(), (a) => a.listConsumerGroupOffsets(group, [{ topic, partition: 0 }])))[0]?.offset ?? -1;
  commitOnSource(30);

  const file = writeMigration({ topics: [topic], linkName: uniqueName("group-sync") });
  await Bun.write(file, (await Bun.file(file).text()).replace("  offsets: auto\n", "  offsets: auto\n  groupOffsetSync: true\n"));
  const run = new KlinkRun(file);
  await until("the group's offset 30 on the target", async () => (await onTarget()) === 30, 90_000, run);
  commitOnSource(60);
  await until("the group's offset 60 on the target", async () => (await onTarget()) === 60, 90_000, run);

  // A member on the target: its offsets are its own.
  const member = new Consumer(plain(target(), { "group.id": group, "auto.offset.reset": "earliest" }));
  member.subscribe([topic]);
  await until("the target member assigned", async () => {
    for (const m of await member.consume(10, 200)) m.destroy();
    return member.assignment().length === 1;
  }, 90_000, run);
  commitOnSource(80);
  await Bun.sleep(25_000); // two sync periods and more
  expect(await onTarget()).toBe(60);
  member.commit([{ topic, partition: 0, offset: 90 }]);
  member.close();
  // Inactive again, but ahead of the source's 80: it stays.
  await Bun.sleep(25_000);
  expect(await onTarget()).toBe(90);
  commitOnSource(95);
  await until("the group's offset 95 on the target", async () => (await onTarget()) === 95, 90_000, run);
  onSource.close();
  await run.stop();
  expect(run.output).toContain(`group ${group}: committed offsets synced to the target: ${topic}[0]=95`);
}, 300_000);
