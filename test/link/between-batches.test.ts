/** The run loop's request queue (src/link/between-batches.ts): what a request asked at each moment of the loop's end gets. */
import { expect, test } from "bun:test";
import { BetweenBatches } from "../../src/link/between-batches.ts";

const stopping = new Error("klink is stopping");

test("served in order while the loop runs", async () => {
  const q = new BetweenBatches();
  const order: number[] = [];
  const a = q.ask(async () => (order.push(1), "a"));
  const b = q.ask(async () => (order.push(2), "b"), stopping);
  await q.serve();
  expect(await a).toBe("a");
  expect(await b).toBe("b");
  expect(order).toEqual([1, 2]);
});

test("at the loop's end a request that cannot wait fails with its reason; the others resolve at close, without running", async () => {
  const q = new BetweenBatches();
  let ran = false;
  const resume = q.ask(async () => (ran = true), stopping);
  const lend = q.ask(async () => (ran = true));
  q.stopped();
  await expect(resume).rejects.toBe(stopping);
  q.close();
  expect(await lend).toBeUndefined();
  expect(ran).toBe(false);
});

test("asked between the loop's end and the close, or after it: one that cannot wait fails with its reason, not with nothing", async () => {
  const q = new BetweenBatches();
  q.stopped();
  const between = q.ask(async () => "resumed", stopping);
  const other = q.ask(async () => "lent");
  q.close();
  await expect(between).rejects.toBe(stopping);
  expect(await other).toBeUndefined();
  await expect(q.ask(async () => "resumed", stopping)).rejects.toBe(stopping);
  expect(await q.ask(async () => "lent")).toBeUndefined();
});
