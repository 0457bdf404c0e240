import { test, expect, afterAll } from "bun:test";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, plain, uniqueName, withAdmin } from "../helpers.ts";
import { writeMigration, spawnKlink, klink } from "./klink-process.ts";

const running = new Set<ReturnType<typeof spawnKlink>>();
afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
});

test("klink status asks the running instance; without one it says so with exit code 2", async () => {
  const topic = uniqueName("status");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 3 }]));
  const p = new Producer(plain(source(), { "linger.ms": 5 }));
  for (let i = 0; i < 3000; i++) p.produce({ topic, partition: i % 3, value: `v${i}` });
  await p.flush();
  await p.close();
  const file = writeMigration({ topics: [topic], linkName: uniqueName("status") });

  const none = await klink(["status", file]);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain("no klink answers at http://127.0.0.1:");

  const proc = spawnKlink(["run", file]);
  running.add(proc);
  let answer: any = null;
  for (let i = 0; i < 50 && !(answer?.partitions?.length === 3 && answer.partitions.every((x: any) => x.next === 1000)); i++) {
    await Bun.sleep(200);
    const r = await klink(["status", file, "--json"]);
    if (r.code === 0) answer = JSON.parse(r.stdout);
  }
  expect(answer.link).toContain("status-");
  expect(answer.partitions.map((x: any) => [x.topic, x.partition, x.mode, x.next, x.error])).toEqual(
    [0, 1, 2].map((partition) => [topic, partition, "exact", 1000, null]),
  );
  const text = await klink(["status", file]);
  expect(text.code).toBe(0);
  expect(text.stdout).toContain(`${topic} (mirroring): 3 partitions, 3000 records`);
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  running.delete(proc);
}, 120_000);
