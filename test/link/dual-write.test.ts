/**
 * Dual write (issue 6): producers move, one at a time, from the source to the target while klink
 * runs; the Router must copy what they write to the target back to the source, the Fetcher must
 * not copy it back again, and both clusters must end with every acknowledged record exactly
 * once, in each producer session's order, byte-identical (I1, I2, I3, I5). The workload and the
 * checker are in dual-write-workload.ts; a failure prints the checker's report and klink's log.
 *
 * The first test (no moves) is the control: it shows that the checker passes on a correct history.
 *
 * klink is dist/klink; KLINK_TEST_KLINK_CMD='["bun","/path/to/src/cli.ts"]' runs another build
 * (e.g. a checkout from before the Router, to see these tests fail). Each klink process's output
 * is kept in klink-<pid>.log beside its migration.yaml.
 */
import { test, afterAll } from "bun:test";
import { target, source, plain, uniqueName, withAdmin } from "../helpers.ts";
import { getCluster } from "../harness/state.ts";
import { restartBroker, type KafkaCluster } from "../harness/cluster.ts";
import { writeMigration, KlinkRun, stopAllKlinks } from "./klink-process.ts";
import { DualWriteWorkload } from "./dual-write-workload.ts";
import { Consumer } from "../../src/rdkafka/index.ts";

const PARTITIONS = 6;
const RATE = 250; // records/s per producer: 4 producers, 1,000 records/s in all

const workloads = new Set<DualWriteWorkload>();
afterAll(async () => {
  await Promise.all([...workloads].map((w) => w.kill()));
  await stopAllKlinks();
});

interface Run {
  w: DualWriteWorkload;
  /** the klink process running now */
  klink: KlinkRun;
  /** every klink process of this run, in order */
  klinks: KlinkRun[];
  log: (line: string) => void;
}

/**
 * Creates a topic on `from`, starts the four producers there and klink (source `from`, target
 * the harness's target), waits until klink mirrors, runs `steps`, stops the producers, waits
 * until klink has copied everything both ways (or stopped making progress), and checks both
 * clusters. Throws the checker's report, with klink's log, if anything is wrong.
 */
async function dualWrite(name: string, steps: (run: Run) => Promise<void>, from: KafkaCluster = source()): Promise<void> {
  const to = target();
  const topic = uniqueName(`dual-${name}`);
  const t0 = Date.now();
  const log = (line: string) => console.error(`[${name} +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
  await withAdmin(from, (a) => a.createTopics([{ name: topic, partitions: PARTITIONS, replicationFactor: from.brokers.length }]));
  const file = writeMigration({ topics: [topic], linkName: uniqueName("dual"), from, to });
  const w = new DualWriteWorkload({ topic, clusters: { source: from, target: to }, rate: RATE, log });
  workloads.add(w);
  const run: Run = { w, klink: new KlinkRun(file), klinks: [], log };
  run.klinks.push(run.klink);
  try {
    await w.start("source");
    await waitForMirroring(to, topic, run.klink);
    log("klink mirrors; producers on the source");
    await steps(run);
    await w.stop();
    log("producers stopped; waiting for klink to copy everything both ways");
    await w.converge();
    const report = await w.check();
    await run.klink.stop();
    if (!report.ok) throw new Error(`${report.text}\n${run.klinks.map((k, i) => `--- klink run ${i + 1} of ${run.klinks.length}: ${k.summary()}`).join("\n")}`);
    log(report.text);
  } finally {
    await w.kill();
    workloads.delete(w);
    for (const k of run.klinks) await k.stop("SIGKILL");
  }
}

/** Waits until klink has created the target topic and copied records into it. */
async function waitForMirroring(to: KafkaCluster, topic: string, klink: KlinkRun, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await withAdmin(to, async (admin) => {
    for (;;) {
      if (klink.exited) throw new Error(`klink exited before mirroring ${topic}\n${klink.summary()}`);
      const known = admin.listTopics(5_000).find((t) => t.name === topic);
      if (known) {
        const w = await admin.watermarks(Array.from({ length: known.partitions }, (_, partition) => ({ topic, partition })));
        if (w.some((p) => p.high > 0)) return;
      }
      if (Date.now() > deadline) throw new Error(`klink copied nothing into ${topic} on the target within ${timeoutMs / 1000} s\n${klink.summary()}`);
      await Bun.sleep(500);
    }
  });
}

/** Moves producers 0..3 to the target one at a time, `gapMs` apart; `between(i)` runs after move i. */
async function moveAll(run: Run, between: (i: number) => Promise<void> = async () => {}, gapMs = 3_000): Promise<void> {
  for (const p of run.w.producers) {
    await run.w.move(p.index, "target");
    await between(p.index);
    await Bun.sleep(gapMs);
  }
}

test("control: producers stay on the source, klink mirrors; every record on both clusters once, in order, identical", async () => {
  await dualWrite("control", async () => {
    await Bun.sleep(8_000);
  });
}, 300_000);

test("producers move to the target one at a time while klink runs: both clusters get every record once, in order, identical", async () => {
  await dualWrite("move", async (run) => {
    await Bun.sleep(3_000);
    await moveAll(run);
    await Bun.sleep(5_000); // all four on the target
  });
}, 300_000);

test("kill -9 of klink in the middle of the move, then restart with the same file: nothing lost or duplicated", async () => {
  await dualWrite("kill9", async (run) => {
    await Bun.sleep(3_000);
    await moveAll(run, async (i) => {
      if (i !== 1) return;
      run.log(`kill -9 of klink (pid ${run.klink.proc.pid}) with two producers on each cluster`);
      await run.klink.stop("SIGKILL");
      await Bun.sleep(1_000);
      run.klink = new KlinkRun(run.klink.file);
      run.klinks.push(run.klink);
      run.log(`klink restarted (pid ${run.klink.proc.pid})`);
    });
    await Bun.sleep(5_000);
  });
}, 300_000);

/**
 * Restarts klink with `signal` while producer `name` keeps writing to the source, and waits until
 * a record it wrote after the old klink had gone is on the target: the new klink copies while the
 * producers still write. Read on the target with a consumer of the test's own.
 */
async function restartAndSeeCopying(run: Run, signal: NodeJS.Signals, name: string, timeoutMs = 120_000): Promise<void> {
  const { w } = run;
  run.log(`${signal} to klink (pid ${run.klink.proc.pid})`);
  await run.klink.stop(signal);
  const marks = await withAdmin(w.clusters.target, async (a) => {
    const [d] = await a.describeTopics([w.topic]);
    return a.watermarks(d!.partitions.map((p) => ({ topic: w.topic, partition: p.partition })));
  });
  // Records of `name` acknowledged so far may have been copied by the old klink; later ones only by the new one.
  const session = (id: string) => id.startsWith(`${name}.`);
  const before = Math.max(-1, ...w.history.acked().filter((r) => session(r.session)).map((r) => r.seq));
  run.klink = new KlinkRun(run.klink.file);
  run.klinks.push(run.klink);
  run.log(`klink restarted (pid ${run.klink.proc.pid}); waiting for ${name}'s records after seq ${before} on the target`);
  const consumer = new Consumer(plain(w.clusters.target, { "isolation.level": "read_committed" }));
  const t0 = Date.now();
  try {
    consumer.assign(marks.map((m) => ({ topic: w.topic, partition: m.partition, offset: m.high })));
    for (;;) {
      let copied: string | null = null;
      for (const m of await consumer.consume(1000, 200)) {
        const who = m.errorCode ? null : w.history.identify(m.value()?.toString("latin1") ?? null);
        m.destroy(); // every message of the batch: the consumer cannot close while one is alive
        if (who && session(who.session) && who.seq > before) copied ??= `${who.session}:${who.seq}`;
      }
      if (copied) {
        run.log(`${copied} (written to the source after the restart) is on the target after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        return;
      }
      if (run.klink.exited) throw new Error(`klink exited after the restart\n${run.klink.summary()}`);
      if (Date.now() - t0 > timeoutMs) {
        throw new Error(`nothing ${name} wrote to the source after the restart reached the target in ${timeoutMs / 1000} s while the producers kept writing\n${run.klink.summary()}`);
      }
    }
  } finally {
    consumer.close();
  }
}

test("restarts under load (SIGTERM, then kill -9) in dual write: klink copies again while producers write to both clusters", async () => {
  await dualWrite("restart-load", async (run) => {
    await Bun.sleep(3_000);
    // L0 and V0 stay on the source, L1 and V1 write to the target: both clusters get records every few ms.
    await run.w.move(1, "target");
    await run.w.move(3, "target");
    await Bun.sleep(5_000);
    await restartAndSeeCopying(run, "SIGTERM", "L0");
    await Bun.sleep(3_000);
    await restartAndSeeCopying(run, "SIGKILL", "L0");
    await Bun.sleep(3_000);
  });
}, 600_000);

test("three-broker source: the leader of a source partition restarts during the move", async () => {
  const three = getCluster("three");
  await dualWrite("leader", async (run) => {
    await Bun.sleep(3_000);
    let restart: Promise<void> = Promise.resolve();
    await moveAll(run, async (i) => {
      if (i !== 0) return;
      const [desc] = await withAdmin(three, (a) => a.describeTopics([run.w.topic]));
      const leader = desc?.partitions.find((p) => p.partition === 0)?.leader?.id ?? three.brokers[0]!.nodeId;
      run.log(`restarting broker ${leader} of the source (leader of partition 0) while producers move`);
      restart = restartBroker(three, leader).then(() => run.log(`broker ${leader} is back`));
    });
    await restart;
    await Bun.sleep(5_000);
  }, three);
}, 300_000);

test("rollback of a producer: one of each kind moves to the target and back while the others stay on the source", async () => {
  await dualWrite("rollback", async (run) => {
    const [l0, , v0] = run.w.producers;
    await Bun.sleep(3_000);
    await run.w.move(l0!.index, "target");
    await run.w.move(v0!.index, "target");
    await Bun.sleep(5_000);
    await run.w.move(l0!.index, "source");
    await run.w.move(v0!.index, "source");
    await Bun.sleep(5_000);
  });
}, 300_000);
