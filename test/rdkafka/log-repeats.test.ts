/**
 * librdkafka's identical lines are logged once, then counted (src/rdkafka/log-events.ts): a consumer
 * closed while its broker was down printed "1/1 brokers are down" once per queued error, 97 lines in
 * 5 s here and 254 at once in a fault run, burying the line that said why klink stopped.
 */
import { expect, test } from "bun:test";
import { RepeatedLines } from "../../src/rdkafka/log-events.ts";
import { freePorts } from "../harness/cluster.ts";

test("a consumer closed while its broker is down: each librdkafka line at most a few times, the repeats counted", async () => {
  const proc = Bun.spawn(["bun", `${import.meta.dir}/brokers-down.ts`, `127.0.0.1:${(await freePorts(1))[0]}`, "5000"], { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(out.trim()).toBe("closed");
  const lines = err.split("\n").filter(Boolean).map((l) => l.replace(/^\S+Z /, ""));
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
  expect([...counts].filter(([, n]) => n > 3)).toEqual([]);
  const told = lines.map((l) => /the same line (\d+) more times?$/.exec(l)).filter(Boolean).map((m) => Number(m![1]));
  expect(told.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(10);
}, 60_000);

test("RepeatedLines: a run of one line is shown once and its repeats told when another line, the window's end or end() comes", () => {
  const told: Array<[string, number]> = [];
  const r = new RepeatedLines((line, hidden) => told.push([line, hidden]), 1_000);
  expect([r.show("a", 0), r.show("a", 10), r.show("a", 20), r.show("b", 30)]).toEqual([true, false, false, true]);
  expect(told).toEqual([["a", 2]]);
  expect([r.show("b", 500), r.show("b", 1_100)]).toEqual([false, true]); // the window ended: shown again
  expect(told).toEqual([["a", 2], ["b", 1]]);
  r.show("b", 1_200);
  r.end();
  expect(told).toEqual([["a", 2], ["b", 1], ["b", 1]]);
  r.end();
  expect(told.length).toBe(3);
});
