/**
 * KLINK_DEBUG_MESSAGES=1: a consumer's close reports the messages still not freed (librdkafka's
 * close waits for them), and says nothing when every message was destroyed or forwarded and
 * delivered. Each case runs in its own process: a close that waits blocks the JS thread.
 */
import { test, expect } from "bun:test";
import { join } from "node:path";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";

const script = join(import.meta.dir, "consume-then-close.ts");

async function topicWithThreeRecords(): Promise<string> {
  const topic = uniqueName("census");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  const producer = new Producer(plain(source()));
  for (let i = 0; i < 3; i++) producer.produce({ topic, partition: 0, value: `v${i}` });
  await producer.flush();
  await producer.close();
  return topic;
}

/**
 * Runs consume-then-close.ts with the census on until it exits, or until its stderr contains
 * `until` (then kills it: its close is blocked). Returns its output.
 */
async function run(topic: string, mode: string, until?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = Bun.spawn([process.execPath, script, source().bootstrap, target().bootstrap, topic, mode], {
    env: { ...process.env, KLINK_DEBUG_MESSAGES: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const killer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
  let stderr = "";
  const readErr = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) {
      stderr += decoder.decode(chunk);
      if (until && stderr.includes(until)) await Bun.sleep(200).then(() => proc.kill("SIGKILL")); // the rest of the report
    }
  })();
  const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited, readErr]);
  clearTimeout(killer);
  return { code: proc.signalCode ? null : code, stdout, stderr };
}

for (const mode of ["destroy-all", "forward-all"]) {
  test(`${mode}: the consumer closes, and the census reports nothing`, async () => {
    const r = await run(await topicWithThreeRecords(), mode);
    expect(r).toEqual({ code: 0, stdout: "closed\n", stderr: "" });
  }, 120_000);
}

test("a message never destroyed is reported at close: its record and where it was consumed", async () => {
  const topic = await topicWithThreeRecords();
  const r = await run(topic, "leak-one", "consumed at:");
  expect(r.stdout).toBe(""); // the close waits for the leaked message
  const [head, records, at] = r.stderr.split("\n");
  expect(head).toMatch(/^KLINK_DEBUG_MESSAGES: consumer rdkafka#consumer-\d+ closes with 1 consumed message\(s\) never destroyed; its close waits until they are freed:$/);
  expect(records).toBe(`  ${topic}[0]@1, consumed at:`);
  expect(at).toMatch(/consume-then-close\.ts:\d+:\d+/); // the line that called consume()
}, 120_000);

test("forwarded messages whose delivery was not served are reported with their producer", async () => {
  const r = await run(await topicWithThreeRecords(), "forward-unflushed", "flush or close the producer first");
  expect(r.stderr).toMatch(/^KLINK_DEBUG_MESSAGES: consumer rdkafka#consumer-\d+ closes with 3 forwarded message\(s\) that producer rdkafka#producer-\d+ has not freed yet/);
}, 120_000);
