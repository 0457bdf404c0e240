import { test, expect } from "bun:test";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import { mirrorOnce, verify, linked, tempStore } from "./fetcher-helpers.ts";
import { identical } from "../../src/link/verify.ts";

async function produce(cluster: ReturnType<typeof source>, topic: string, n: number, prefix: string, partitions = 2) {
  const p = new Producer(plain(cluster, { "linger.ms": 5 }));
  for (let i = 0; i < n; i++) p.produce({ topic, partition: i % partitions, key: `${prefix}${i}`, value: `${prefix}-value-${i}` });
  await p.flush();
  await p.close();
}

test("a target partition holding foreign data: exact refuses it, auto mirrors it in translate mode with an exact offset map", async () => {
  const topic = uniqueName("foreign");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 2 }]));
  await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 2 }]));
  await produce(source(), topic, 2000, "s");
  await produce(target(), topic, 300, "foreign");

  const refused = await mirrorOnce([linked(topic, { kind: "earliest" }, { offsets: "exact" })]);
  expect(refused.log.filter((l) => l.includes("not copied")).length).toBe(2);
  expect(refused.log.join("\n")).toContain("already holds offsets 0..149 that klink did not write");

  const store = tempStore();
  const link = uniqueName("translate");
  const { log } = await mirrorOnce([linked(topic)], store, link);
  expect(log.filter((l) => l.includes("translate mode from source offset 0 (target offset 150)")).length).toBe(2);
  for (const v of await verify(topic, store)) {
    expect(identical(v)).toBe(true);
    expect(v.compared).toBe(1000);
  }
  // Each source offset maps to the target offset 150 places later, in order.
  expect(await store.seek("source", topic, 0, 0)).toMatchObject({ sourceOffset: 0, targetOffset: 150 });
  expect(await store.seek("source", topic, 1, 999)).toMatchObject({ sourceOffset: 999, targetOffset: 1149 });
  expect(await store.seek("target", topic, 1, 1149)).toMatchObject({ sourceOffset: 999 });

  // More source records later: the link resumes in translate mode and the map stays exact.
  await produce(source(), topic, 400, "t");
  await mirrorOnce([linked(topic)], store, link);
  for (const v of await verify(topic, store)) {
    expect(identical(v)).toBe(true);
    expect(v.compared).toBe(1200);
  }
  expect(await store.last("source", topic, 0)).toMatchObject({ sourceOffset: 1199, targetOffset: 1349 });
  await store.close();
}, 180_000);

test("a start prefix longer than prefixFillLimit: auto switches to translate, exact stops the partition", async () => {
  const topic = uniqueName("long-prefix");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  await produce(source(), topic, 600, "s", 1);
  await withAdmin(source(), (a) => a.deleteRecords([{ topic, partition: 0, offset: 500 }]));

  const exact = await mirrorOnce([linked(topic, { kind: "earliest" }, { offsets: "exact", prefixFillLimit: 100 })]);
  expect(exact.log.join("\n")).toContain("aligning the start needs 500 filler offsets, more than link.prefixFillLimit (100): exact offsets are impossible (offsets: exact)");

  const topic2 = uniqueName("long-prefix");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic2, partitions: 1 }]));
  await produce(source(), topic2, 600, "s", 1);
  await withAdmin(source(), (a) => a.deleteRecords([{ topic: topic2, partition: 0, offset: 500 }]));
  const store = tempStore();
  const auto = await mirrorOnce([linked(topic2, { kind: "earliest" }, { prefixFillLimit: 100 })], store);
  expect(auto.log.join("\n")).toContain("translate mode from source offset 500 (target offset 0)");
  const [v] = await verify(topic2, store);
  expect(identical(v!)).toBe(true);
  expect(v!.compared).toBe(100);
  expect(await store.seek("source", topic2, 0, 550)).toMatchObject({ targetOffset: 50 });
  await store.close();
}, 120_000);
