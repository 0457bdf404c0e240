/** The large-frame pool (src/group/frame-pool.ts): reuse only what it handed out and got back, once. */
import { expect, test } from "bun:test";
import { recycleFrame, takeFrame } from "../../src/group/frame-pool.ts";

const MiB = 1024 * 1024;

test("a frame given back is handed out again for a frame that fits; one still held is not", () => {
  const a = takeFrame(3 * MiB);
  const b = takeFrame(3 * MiB);
  expect(a.buffer).not.toBe(b.buffer);
  expect(a.length).toBe(3 * MiB);
  recycleFrame(a.subarray(100, 200)); // any view of it gives it back
  const c = takeFrame(2 * MiB);
  expect(c.buffer).toBe(a.buffer);
  expect(c.length).toBe(2 * MiB);
  expect(takeFrame(2 * MiB).buffer).not.toBe(a.buffer); // c holds it now
});

test("a frame given back twice is kept once: two later frames never share memory", () => {
  const a = takeFrame(MiB);
  recycleFrame(a);
  recycleFrame(a);
  const x = takeFrame(MiB);
  const y = takeFrame(MiB);
  expect(x.buffer).not.toBe(y.buffer);
});

test("a buffer it did not hand out is never reused", () => {
  const foreign = Buffer.allocUnsafe(4 * MiB);
  recycleFrame(foreign);
  expect(takeFrame(4 * MiB).buffer).not.toBe(foreign.buffer);
});
