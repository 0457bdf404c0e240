/**
 * The Router against real brokers, driven in-process: records written straight to the target
 * reach the source once, records the Router wrote are not copied back (and the Fetcher's copies
 * are not routed back), the topic moves to dual-write, and the offset map translates exactly.
 */
import { test, expect, afterAll } from "bun:test";
import { Producer, Consumer } from "../../src/rdkafka/index.ts";
import { Link } from "../../src/link/link.ts";
import { translateOffset } from "../../src/link/partition/translate.ts";
import { identical, outOfOrder } from "../../src/link/verify.ts";
import { source, target, plain, uniqueName, withAdmin, until } from "../helpers.ts";
import type { KafkaCluster } from "../harness/cluster.ts";
import { linked, tempStore, verify } from "./fetcher-helpers.ts";
import type { Store } from "../../src/state/store.ts";
import { writeMigration, spawnKlink, klink } from "./klink-process.ts";

const running = new Set<ReturnType<typeof spawnKlink>>();
afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
});

async function produce(cluster: KafkaCluster, topic: string, n: number, prefix: string, partitions: number): Promise<void> {
  const p = new Producer(plain(cluster, { "linger.ms": 5, "enable.idempotence": true }));
  for (let i = 0; i < n; i++) {
    p.produce({ topic, partition: i % partitions, key: `${prefix}-${i}`, value: `${prefix}-value-${i}`, headers: [["from", prefix]], timestamp: 1_700_000_000_000 + i });
  }
  await p.flush();
  await p.close();
}

/** Every record of `topic` on `cluster` as "partition/key" strings (read_committed, to the end). */
async function readAll(cluster: KafkaCluster, topic: string, partitions: number): Promise<Map<number, string[]>> {
  const c = new Consumer(plain(cluster, { "enable.partition.eof": true }));
  const out = new Map<number, string[]>();
  const open = new Set<number>();
  for (let p = 0; p < partitions; p++) {
    out.set(p, []);
    open.add(p);
  }
  c.assign([...open].map((partition) => ({ topic, partition, offset: -2 })));
  const deadline = Date.now() + 60_000;
  while (open.size && Date.now() < deadline) {
    for (const m of await c.consume(1000, 200)) {
      if (m.isPartitionEof) open.delete(m.partition);
      else if (!m.errorCode) out.get(m.partition)!.push(m.key()!.toString());
      m.destroy();
    }
  }
  c.close();
  return out;
}

function startFetcher(topic: string, store: Store, linkName: string, log: string[]): { fetcher: Link; running: Promise<void> } {
  const fetcher = new Link({
    linkName, source: { config: plain(source()), options: {} }, target: { config: plain(target()), options: {} },
    topics: [linked(topic)], store, maxInFlightBytes: 64 << 20, memoryBytes: 1 << 30, log: (l) => log.push(l),
  });
  const running = fetcher.start().then(() => fetcher.run(false));
  return { fetcher, running };
}

async function ends(cluster: KafkaCluster, topic: string, partitions: number): Promise<number> {
  try {
    const marks = await withAdmin(cluster, (a) => a.watermarks([...Array(partitions).keys()].map((partition) => ({ topic, partition }))));
    return marks.reduce((n, m) => n + m.high, 0);
  } catch {
    return -1; // the target topic is not there yet
  }
}

test("dual write: direct target writes are routed to the source once, nothing loops back, order and offsets map exactly", async () => {
  const topic = uniqueName("dual");
  const partitions = 2;
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions, configs: { "retention.ms": "-1" } }]));
  await produce(source(), topic, 1000, "before", partitions);

  const store = tempStore();
  const log: string[] = [];
  const { fetcher, running } = startFetcher(topic, store, uniqueName("dual"), log);
  try {
    await until("the source is mirrored", async () => (await ends(target(), topic, partitions)) === 1000);
    // Producers on both clusters at once: some instances moved, some not yet.
    await Promise.all([produce(source(), topic, 3000, "src", partitions), produce(target(), topic, 3000, "tgt", partitions)]);
    await produce(source(), topic, 500, "late-src", partitions);
    await produce(target(), topic, 500, "late-tgt", partitions);
    const total = 1000 + 3000 + 3000 + 500 + 500;
    await until("both clusters hold every record", async () => (await ends(source(), topic, partitions)) === total && (await ends(target(), topic, partitions)) === total);
    await Bun.sleep(3_000); // anything looping back would show up as more records now
    expect(await ends(source(), topic, partitions)).toBe(total);
    expect(await ends(target(), topic, partitions)).toBe(total);
    const progress = fetcher.progress();
    expect(progress.every((p) => p.error === null)).toBe(true);
    expect(progress.every((p) => p.topicState === "dual-write")).toBe(true);
    expect(progress.reduce((n, p) => n + (p.routed?.routedRecords ?? 0), 0)).toBe(3500);
  } finally {
    fetcher.stop();
    await running;
    await fetcher.close();
  }

  // Each cluster has each record once, and each producer's order per partition.
  const [onSource, onTarget] = await Promise.all([readAll(source(), topic, partitions), readAll(target(), topic, partitions)]);
  for (let p = 0; p < partitions; p++) {
    for (const keys of [onSource.get(p)!, onTarget.get(p)!]) {
      expect(new Set(keys).size).toBe(keys.length);
      expect(keys.length).toBe(4000);
      for (const prefix of ["before", "src", "tgt", "late-src", "late-tgt"]) {
        const seq = keys.filter((k) => k.startsWith(`${prefix}-`)).map((k) => Number(k.slice(prefix.length + 1)));
        expect(seq).toEqual([...seq].sort((a, b) => a - b));
      }
    }
    expect([...onSource.get(p)!].sort()).toEqual([...onTarget.get(p)!].sort());
  }
  expect((await store.topics()).find((t) => t.topic === topic)?.state).toBe("dual-write");
  // verify compares through the offset map: byte-identical, once each, order kept per direction.
  for (const v of await verify(topic, store)) expect(identical(v)).toBe(true);
  // Offsets before dual write began are identical; after it, a translated position skips nothing.
  const notAsked = () => Promise.reject(new Error("a translate-mode partition needs no end offset"));
  expect((await translateOffset(store, topic, 0, 100, "source", notAsked))?.translated).toBe(100);
  const rows = await store.offsetMap(topic, 0, 0, 1_000_000);
  expect(rows.filter((r) => r.origin === "target").length).toBe(1750);
  const mid = rows[Math.floor(rows.length / 2)]!;
  const t = await translateOffset(store, topic, 0, mid.sourceOffset, "source", notAsked);
  const minTarget = Math.min(...rows.filter((r) => r.sourceOffset >= mid.sourceOffset).map((r) => r.targetOffset));
  expect(t?.translated).toBe(minTarget);
  await store.close();
}, 240_000);

/** A producer writing keyed records `${name}-${n}` round-robin over the partitions until stopped. */
function steadyProducer(cluster: KafkaCluster, topic: string, name: string, partitions: number) {
  const producer = new Producer(plain(cluster, { "linger.ms": 2, "enable.idempotence": true }));
  let sent = 0;
  let on = true;
  const done = (async () => {
    while (on) {
      for (let i = 0; i < 100; i++, sent++) {
        producer.produce({ topic, partition: sent % partitions, key: `${name}-${sent}`, value: Buffer.alloc(20 + (sent % 500), sent & 0xff), headers: [["producer", name]] });
      }
      await Bun.sleep(10);
    }
    await producer.flush();
    await producer.close();
  })();
  return { stop: async () => ((on = false), await done, sent) };
}

test("kill -9 of klink during dual write, 8 rounds: every record once on each cluster, each producer's order kept", async () => {
  const topic = uniqueName("dual-crash");
  const partitions = 3;
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions, configs: { "retention.ms": "-1" } }]));
  const file = writeMigration({ topics: [topic], linkName: uniqueName("dual-crash") });
  const first = await klink(["run", file, "--until-caught-up"]);
  expect(first.code).toBe(0);

  const producers = [steadyProducer(source(), topic, "src", partitions), steadyProducer(target(), topic, "tgt", partitions)];
  let seed = 11;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let round = 0; round < 8; round++) {
    const proc = spawnKlink(["run", file]);
    running.add(proc);
    await Bun.sleep(1500 + Math.floor(random() * 2500));
    const crashedByItself = proc.exitCode !== null; // it must still run: only our kill may stop it
    proc.kill("SIGKILL");
    await proc.exited;
    running.delete(proc);
    if (crashedByItself) throw new Error(`klink exited on its own in round ${round}:\n${await new Response(proc.stderr).text()}`);
  }
  const [srcSent, tgtSent] = [await producers[0]!.stop(), await producers[1]!.stop()];

  const last = await klink(["run", file, "--until-caught-up"]);
  console.log(`dual-write crash: ${srcSent} records to the source, ${tgtSent} to the target`);
  expect(last.stderr).not.toContain("stopped:");
  expect(last.code).toBe(0);
  const verify = await klink(["verify", file]);
  expect(verify.stdout).toContain(`identical: ${srcSent + tgtSent} records in ${partitions} partitions`);
  expect(verify.code).toBe(0);

  // status shows the lifecycle state and the Router's lag.
  const proc = spawnKlink(["run", file]);
  running.add(proc);
  let status = "";
  for (let i = 0; i < 100 && !status.includes("router lag 0"); i++) {
    await Bun.sleep(200);
    status = (await klink(["status", file])).stdout;
  }
  proc.kill("SIGTERM");
  await proc.exited;
  running.delete(proc);
  expect(status).toContain(`${topic} (dual-write)`);
  expect(status).toMatch(/routed target → source this run, router lag 0/);

  const [onSource, onTarget] = await Promise.all([readAll(source(), topic, partitions), readAll(target(), topic, partitions)]);
  for (let p = 0; p < partitions; p++) {
    for (const keys of [onSource.get(p)!, onTarget.get(p)!]) {
      expect(keys.length - new Set(keys).size).toBe(0); // no duplicates
      for (const name of ["src", "tgt"]) {
        const seq = keys.filter((k) => k.startsWith(`${name}-`)).map((k) => Number(k.slice(name.length + 1)));
        const expected = [...Array(name === "src" ? srcSent : tgtSent).keys()].filter((n) => n % partitions === p);
        expect(seq).toEqual(expected); // none lost, in the producer's order
      }
    }
  }
}, 600_000);

test("verify's order check (I3): two directions merged pass, a record out of its direction's order fails", () => {
  expect(outOfOrder([0, 1, 5, 2, 6, 3, 7])).toBe(0); // 0,1,2,3 and 5,6,7 interleaved
  expect(outOfOrder([0, 5, 4, 3, 6])).toBe(1); // 5 > 4 > 3: one direction lost its order
});
