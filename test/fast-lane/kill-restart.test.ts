/**
 * kill -9 of the fast lane mid-copy, three times, while the source is written, then a run to the
 * end: every start resumes at the target's end offsets with the producer identity of the first
 * (lane-proc.ts). The oracle reads both clusters (exact-check.ts): identical records at identical
 * offsets, nothing twice, nothing missing.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Producer } from "../../src/rdkafka/index.ts";
import { plain, source, target, until } from "../helpers.ts";
import { exactDifferences } from "../link/exact-check.ts";
import { topicPair } from "./lane-helpers.ts";

setDefaultTimeout(240_000);

const PARTITIONS = 6;
const runs: Array<ReturnType<typeof Bun.spawn>> = [];
afterAll(() => runs.forEach((r) => r.exitCode === null && r.kill("SIGKILL")));

function start(topic: string, identityFile: string, paceMs: number) {
  const o = { source: source().bootstrap, target: target().bootstrap, topic, partitions: PARTITIONS, identityFile, paceMs };
  const run = Bun.spawn([process.execPath, join(import.meta.dir, "lane-proc.ts"), JSON.stringify(o)], { stdout: "pipe", stderr: "pipe" });
  runs.push(run);
  let rounds = 0;
  let stderr = "";
  void (async () => {
    for await (const chunk of run.stdout as ReadableStream<Uint8Array>) rounds += new TextDecoder().decode(chunk).split("\n").filter((l) => l.includes('"round"')).length;
  })();
  void new Response(run.stderr as ReadableStream).text().then((t) => (stderr = t));
  const status = { get exited() { return run.exitCode !== null; }, summary: () => `lane exited with ${run.exitCode}: ${stderr}` };
  return { run, rounds: () => rounds, status };
}

async function write(topic: string, from: number, perPartition: number): Promise<void> {
  const producer = new Producer(plain(source(), { "compression.codec": "lz4", "linger.ms": 5, "batch.num.messages": 40 }));
  for (let i = from; i < from + perPartition; i++) {
    for (let p = 0; p < PARTITIONS; p++) producer.produce({ topic, partition: p, key: `k${p}-${i}`, value: `value ${i} ${"v".repeat(i % 200)}`, headers: i % 5 ? [] : [["h", `${i}`]] });
    if (i % 500 === 0) await producer.flush();
  }
  await producer.flush();
  await producer.close();
}

test("kill -9 of the lane mid-copy, three times while the source is written: identical at identical offsets", async () => {
  const topic = await topicPair("lane-kill", {}, source(), target(), PARTITIONS);
  const identityFile = join(mkdtempSync(join(tmpdir(), "klink-lane-")), "identity.json");
  await write(topic, 0, 12_000);
  const more = write(topic, 12_000, 4_000); // goes on while the lane is killed and started again
  for (let kill = 0; kill < 3; kill++) {
    const { run, rounds, status } = start(topic, identityFile, 10);
    await until("the lane copies", () => rounds() >= 1, 60_000, status);
    await Bun.sleep(100 + Math.random() * 300);
    expect(run.exitCode).toBeNull(); // killed mid-copy, not after it
    run.kill("SIGKILL");
    await run.exited;
  }
  await more;
  const last = start(topic, identityFile, 0);
  const code = await last.run.exited;
  expect({ code, stderr: code ? await new Response(last.run.stderr as ReadableStream).text() : "" }).toEqual({ code: 0, stderr: "" });
  expect(await exactDifferences(source(), target(), topic, PARTITIONS)).toEqual([]);
});
