/**
 * docs/runbook.md, steps 3–11, followed in order against the test clusters with the same commands
 * (dist/klink): init → validate → plan → run → status → verify → move producers → handoff →
 * promote, and the rollback path on a second topic. Each go condition is checked from outside
 * klink: offsets with Kafka's GetOffsetShell, group offsets with kafka-consumer-groups, records
 * with this test's own librdkafka clients. (Steps 1–2's install is test/release.test.ts.)
 */
import { test, expect, afterAll } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Consumer, Producer } from "../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin, KEEP_OLD_TIMESTAMPS } from "./helpers.ts";
import { getOffsets, consumerGroupsTool, stopAllTools } from "./harness/tools.ts";
import type { KafkaCluster } from "./harness/cluster.ts";
import { klink, KlinkRun, freePort, statusWhenRunning, stopAllKlinks } from "./link/klink-process.ts";

afterAll(async () => {
  await stopAllKlinks();
  await stopAllTools();
});

const PARTITIONS = 2;

async function produce(cluster: KafkaCluster, topic: string, count: number, tag: string): Promise<void> {
  const producer = new Producer(plain(cluster, { "linger.ms": 5 }));
  for (let i = 0; i < count; i++) producer.produce({ topic, partition: i % PARTITIONS, key: `${tag}-${i}`, value: `${tag}-${i}` });
  await producer.flush();
  await producer.close();
}

/** A group member of this test's own: reads, commits after each batch, remembers every offset read. */
function member(cluster: KafkaCluster, topic: string, group: string) {
  const consumer = new Consumer(plain(cluster, { "group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": false }));
  consumer.subscribe([topic]);
  const read: Array<{ partition: number; offset: number }> = [];
  let on = true;
  const loop = (async () => {
    while (on) {
      const next = new Map<number, number>();
      for (const m of await consumer.consume(500, 100)) {
        if (!m.errorCode) {
          read.push({ partition: m.partition, offset: m.offset });
          next.set(m.partition, m.offset + 1);
        }
        m.destroy();
      }
      if (next.size) consumer.commit([...next].map(([partition, offset]) => ({ topic, partition, offset })));
    }
  })();
  return {
    read,
    async waitFor(count: number) {
      for (let i = 0; i < 600 && read.length < count; i++) await Bun.sleep(200);
      expect(read.length).toBe(count);
    },
    async stop() {
      on = false;
      await loop;
      consumer.close();
    },
  };
}

/** kafka-consumer-groups --describe: the group's committed offset per partition of `topic`. */
async function groupOffsets(cluster: KafkaCluster, group: string, topic: string): Promise<Map<number, number>> {
  const r = await consumerGroupsTool(cluster, ["--describe", "--group", group], { allowFail: true });
  const out = new Map<number, number>();
  for (const line of r.stdout) {
    const cols = line.trim().split(/\s+/);
    if (cols[0] === group && cols[1] === topic && /^\d+$/.test(cols[3] ?? "")) out.set(+cols[2]!, +cols[3]!);
  }
  return out;
}

/** GetOffsetShell's log start and end per partition on both clusters. */
async function offsetsBoth(topic: string) {
  const [se, sl, te, tl] = await Promise.all([getOffsets(source(), topic, "earliest"), getOffsets(source(), topic, "latest"), getOffsets(target(), topic, "earliest"), getOffsets(target(), topic, "latest")]);
  return { source: { start: [...se].sort(), end: [...sl].sort() }, target: { start: [...te].sort(), end: [...tl].sort() } };
}

const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);

async function statusUntil(file: string, what: string, done: (s: any) => boolean): Promise<any> {
  let s: any = null;
  for (let i = 0; i < 600; i++) {
    s = await statusWhenRunning(file);
    if (done(s)) return s;
    await Bun.sleep(300);
  }
  throw new Error(`klink status never showed ${what}; last answer: ${JSON.stringify(s).slice(0, 2000)}`);
}
const topicPartitions = (s: any, topic: string) => (s.partitions as any[]).filter((p) => p.topic === topic);
const group = (s: any, name: string) => (s.groups as any[]).find((g) => g.group === name);

test("the runbook, step by step: init, validate, plan, run, status, verify, producers, handoff, promote; and a rollback", async () => {
  const orders = uniqueName("rb-orders"), payments = uniqueName("rb-payments");
  const billing = uniqueName("rb-billing"), ledger = uniqueName("rb-ledger");
  const N = 200, M = 60, K = 20;

  // Before the runbook: the source has the topics, records, and groups that read them there.
  await withAdmin(source(), (a) => a.createTopics([orders, payments].map((name) => ({ name, partitions: PARTITIONS, configs: KEEP_OLD_TIMESTAMPS }))));
  await produce(source(), orders, N, "src");
  await produce(source(), payments, N, "src");
  const billingOnSource = member(source(), orders, billing);
  const ledgerOnSource = member(source(), payments, ledger);
  await billingOnSource.waitFor(N);
  await ledgerOnSource.waitFor(N);

  // Step 2: write the migration (init, then the edits the runbook names).
  const dir = mkdtempSync(join(tmpdir(), "klink-runbook-"));
  const file = join(dir, "migration.yaml");
  const init = await klink(["init", file, "--source", source().bootstrap, "--target", target().bootstrap, "--name", uniqueName("runbook")]);
  expect(init.code).toBe(0);
  const edited = readFileSync(file, "utf8")
    .replace("names: [orders, payments]", `names: [${orders}, ${payments}]`)
    .replace("names: [billing]", `names: [${billing}, ${ledger}]`)
    .replace("listen: 127.0.0.1:8787", `listen: 127.0.0.1:${freePort()}`);
  expect(edited).toContain(orders);
  expect(edited).toContain(ledger);
  writeFileSync(file, edited);

  // Step 3: validate. Go: exit 0.
  expect(await klink(["validate", file])).toMatchObject({ code: 0 });

  // Step 4: plan. Go: exit 0, every partition exact, every group held on the target.
  const plan = await klink(["plan", file, "--json"]);
  expect(plan.code).toBe(0);
  const planned = JSON.parse(plan.stdout);
  expect(planned.topics.flatMap((t: any) => t.partitionPlans.map((p: any) => p.mode))).toEqual(Array(2 * PARTITIONS).fill("exact"));
  expect(planned.groups.map((g: any) => g.handoff).sort()).toEqual(["fence", "fence"]);

  // Step 5: run. Go: status exit 0, lag 0 everywhere, groups fenced; both clusters' offsets equal.
  const run = new KlinkRun(file);
  try {
    await statusUntil(file, "every partition caught up and both groups fenced", (s) =>
      s.partitions.length === 2 * PARTITIONS && s.partitions.every((p: any) => !p.error && p.sourceEnd !== null && p.next === p.sourceEnd) &&
      group(s, billing)?.state === "fenced" && group(s, ledger)?.state === "fenced");
    expect((await klink(["status", file])).code).toBe(0);
    for (const topic of [orders, payments]) {
      const o = await offsetsBoth(topic);
      expect(o.target).toEqual(o.source);
      expect(sum(new Map(o.source.end))).toBe(N);
    }

    // Step 6: verify. Go: exit 0.
    expect(await klink(["verify", file])).toMatchObject({ code: 0 });

    // Step 7: producers move to the target. Go: dual-write, Router lag 0, the source has their records.
    await produce(target(), orders, M, "tgt");
    await produce(target(), payments, M, "tgt");
    await statusUntil(file, "both topics in dual write with everything routed", (s) =>
      [orders, payments].every((t) => topicPartitions(s, t).every((p) => p.topicState === "dual-write" && p.routed && p.routed.next === p.routed.targetEnd) &&
        topicPartitions(s, t).reduce((n, p) => n + (p.routed?.routedRecords ?? 0), 0) === M));
    for (const topic of [orders, payments]) {
      const o = await offsetsBoth(topic);
      expect(o.target).toEqual(o.source);
      expect(sum(new Map(o.source.end))).toBe(N + M);
    }
    await billingOnSource.waitFor(N + M); // consumers still on the source see what producers wrote to the target
    await ledgerOnSource.waitFor(N + M);

    // Step 8: consumers move: start on the target (held: reads nothing), handoff, stop on the source.
    const committedOnSource = await groupOffsets(source(), billing, orders);
    expect(sum(committedOnSource)).toBe(N + M);
    const billingOnTarget = member(target(), orders, billing);
    expect((await klink(["handoff", file, billing])).code).toBe(0);
    expect(billingOnTarget.read).toEqual([]);
    await billingOnSource.stop();
    await statusUntil(file, `${billing} handed-off`, (s) => group(s, billing)?.state === "handed-off");
    expect(await groupOffsets(target(), billing, orders)).toEqual(committedOnSource);
    await produce(target(), orders, K, "tgt2");
    await billingOnTarget.waitFor(K); // the producers' new records, each once, from where the source left off
    for (const [partition, offset] of committedOnSource) {
      const mine = billingOnTarget.read.filter((r) => r.partition === partition).map((r) => r.offset);
      expect(Math.min(...mine)).toBe(offset);
      expect(new Set(mine).size).toBe(mine.length);
    }

    // Step 9: promote orders. Go: exit 0 (asked again while refused, as the runbook says), promoted, ends equal.
    let promote = await klink(["promote", file, orders]);
    for (let i = 0; i < 40 && promote.code !== 0; i++) {
      await Bun.sleep(3_000);
      promote = await klink(["promote", file, orders]);
    }
    expect(promote.code).toBe(0);
    await statusUntil(file, `${orders} promoted`, (s) => topicPartitions(s, orders).every((p) => p.topicState === "promoted"));
    const promoted = await offsetsBoth(orders);
    expect(promoted.target.end).toEqual(promoted.source.end);
    const metrics = await (await fetch(`http://${edited.match(/listen: (127\.0\.0\.1:\d+)/)![1]}/metrics`)).text();
    expect(metrics).toContain(`klink_topic_state{topic="${orders}",state="promoted"} 1`);
    await billingOnTarget.stop();

    // Step 10, the rollback path on payments: its group moves to the target, then back.
    const ledgerOnTarget = member(target(), payments, ledger);
    expect((await klink(["handoff", file, ledger])).code).toBe(0);
    await ledgerOnSource.stop();
    await statusUntil(file, `${ledger} handed-off`, (s) => group(s, ledger)?.state === "handed-off");
    await produce(target(), payments, K, "tgt2");
    await ledgerOnTarget.waitFor(K);
    expect((await klink(["rollback", file, payments])).code).toBe(0);
    await ledgerOnTarget.stop();
    const committedOnTarget = await groupOffsets(target(), ledger, payments);
    expect(sum(committedOnTarget)).toBe(N + M + K);
    await statusUntil(file, `${ledger} rolled-back`, (s) => group(s, ledger)?.state === "rolled-back" && topicPartitions(s, payments).every((p) => p.topicState === "rolled-back"));
    expect(await groupOffsets(source(), ledger, payments)).toEqual(committedOnTarget);
    const ledgerBack = member(source(), payments, ledger);
    await produce(source(), payments, K, "back");
    await ledgerBack.waitFor(K); // exactly the new records: nothing skipped, nothing read again
    for (const [partition, offset] of committedOnTarget) {
      expect(Math.min(...ledgerBack.read.filter((r) => r.partition === partition).map((r) => r.offset))).toBe(offset);
    }
    await ledgerBack.stop();

    // Step 11: stop klink (SIGTERM, as systemctl stop). Go: exit 0.
    await run.stop("SIGTERM");
    expect(run.proc.exitCode).toBe(0);
  } catch (err) {
    console.error(run.summary());
    throw err;
  } finally {
    await run.stop("SIGKILL");
  }
}, 900_000);
