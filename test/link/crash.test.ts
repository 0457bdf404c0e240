import { test, expect, afterAll } from "bun:test";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import { writeMigration, spawnKlink, klink } from "./klink-process.ts";
import { exactDifferences } from "./exact-check.ts";

const running = new Set<ReturnType<typeof spawnKlink>>();
afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
});

test("kill -9 of klink at random moments under load, 10 rounds: no loss, no duplicates, same offsets", async () => {
  const topic = uniqueName("crash");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 3 }]));
  const file = writeMigration({ topics: [topic], linkName: uniqueName("crash") });

  // Load: a producer writes to the source during every round.
  let producing = true;
  let produced = 0;
  const producer = new Producer(plain(source(), { "linger.ms": 2 }));
  const load = (async () => {
    while (producing) {
      for (let i = 0; i < 500; i++) {
        try {
          producer.produce({ topic, key: `k${produced}`, value: Buffer.alloc(50 + (produced % 2000), produced & 0xff), headers: [["n", String(produced)]] });
          produced++;
        } catch {
          producer.poll();
        }
      }
      await Bun.sleep(5);
    }
    await producer.flush();
  })();

  let seed = 7;
  const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  for (let round = 0; round < 10; round++) {
    const proc = spawnKlink(["run", file]);
    running.add(proc);
    await Bun.sleep(500 + Math.floor(random() * 2500));
    proc.kill("SIGKILL");
    await proc.exited;
    running.delete(proc);
  }
  producing = false;
  await load;
  await producer.close();

  const caughtUp = await klink(["run", file, "--until-caught-up"]);
  expect(caughtUp.stderr).not.toContain("stopped:");
  expect(caughtUp.code).toBe(0);
  expect(await exactDifferences(source(), target(), topic, 3)).toEqual([]); // read with our own consumer
  const verify = await klink(["verify", file]);
  expect(verify.stdout).toContain(`identical: ${produced} records in 3 partitions`);
  expect(verify.code).toBe(0);
  const [s, t] = await Promise.all([
    withAdmin(source(), (a) => a.watermarks([0, 1, 2].map((partition) => ({ topic, partition })))),
    withAdmin(target(), (a) => a.watermarks([0, 1, 2].map((partition) => ({ topic, partition })))),
  ]);
  expect(t).toEqual(s);
}, 600_000);
