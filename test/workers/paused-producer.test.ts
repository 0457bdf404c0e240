/**
 * What the worker lease assumes of librdkafka (docs/workers.md, "The data under the lease", 1):
 * records queued in a producer when its process is paused past message.timeout.ms are failed
 * when it wakes up, not sent. The judge is the target partition's end offset (the broker's), read
 * by another client: only the record before the pause and the one after it are there.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { target, uniqueName, until, withAdmin } from "../helpers.ts";

setDefaultTimeout(120_000);

const children: Array<ReturnType<typeof Bun.spawn>> = [];
afterAll(() => {
  for (const c of children) {
    try {
      process.kill(c.pid, "SIGCONT");
      process.kill(c.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/** Long enough that a loaded machine (the control's 500-ms pause, the record after the wake) does not time records out by itself. */
const MESSAGE_TIMEOUT_MS = 5_000;

const cases = [
  ...[1, 2, 3].map((round) => ({ name: `records queued in a producer paused past message.timeout.ms are not written when it wakes (round ${round})`, pauseMs: 10_000 })),
  // the control: the same pause, shorter than message.timeout.ms, and the records are written
  { name: "control: paused for less than message.timeout.ms, the queued records are written when it wakes", pauseMs: 500 },
];

for (const { name, pauseMs } of cases) {
  test(name, async () => {
    const topic = uniqueName("paused-producer");
    await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
    const child = Bun.spawn([process.execPath, join(import.meta.dir, "paused-producer.ts"), target().bootstrap, topic, "50", String(MESSAGE_TIMEOUT_MS)], { stdout: "pipe", stderr: "pipe" });
    children.push(child);
    const events: any[] = [];
    void (async () => {
      let buffered = "";
      for await (const chunk of child.stdout as ReadableStream<Uint8Array>) {
        buffered += new TextDecoder().decode(chunk);
        for (let nl; (nl = buffered.indexOf("\n")) >= 0; buffered = buffered.slice(nl + 1)) events.push(JSON.parse(buffered.slice(0, nl)));
      }
    })();
    await until("the child queued its records", () => events.some((e) => e.type === "queued"), 30_000);
    process.kill(child.pid, "SIGSTOP"); // within linger.ms (1.5 s) of queueing: nothing of them sent yet
    await Bun.sleep(pauseMs);
    process.kill(child.pid, "SIGCONT");
    expect(await child.exited).toBe(0);

    const expired = pauseMs > MESSAGE_TIMEOUT_MS;
    const reports = events.find((e) => e.type === "reports").reports as string[];
    expect(reports).toHaveLength(50);
    expect(new Set(reports)).toEqual(expired ? new Set(["_MSG_TIMED_OUT"]) : new Set(reports.map((_, i) => `offset ${i + 1}`)));
    expect(events.find((e) => e.type === "done").last).toBe(`offset ${expired ? 1 : 51}`);
    const [w] = await withAdmin(target(), (a) => a.watermarks([{ topic, partition: 0 }]));
    expect(w!.high).toBe(expired ? 2 : 52);
  });
}
