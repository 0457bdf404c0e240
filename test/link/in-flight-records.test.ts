/** The Fetcher's queue of records in flight per target partition (src/link/in-flight-records.ts): pure. */
import { test, expect } from "bun:test";
import { InFlightRecords } from "../../src/link/in-flight-records.ts";

test("reports in produce order are matched with the oldest entry; through compaction, every entry once", () => {
  const q = new InFlightRecords();
  const taken: number[] = [];
  let id = 1;
  let next = 1;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 300; i++, id++) q.push(id, 1000 + id, id % 7);
    for (let i = 0; i < 250; i++, next++) {
      const e = q.take(next);
      expect(e).toEqual({ offset: 1000 + next, size: next % 7 });
      taken.push(e!.offset);
    }
    expect(q.length).toBe(id - next);
    expect(q.pendingOffsets()).toEqual(Array.from({ length: id - next }, (_, i) => 1000 + next + i));
  }
  while (q.length) taken.push(q.take(next++)!.offset);
  expect(taken).toEqual(Array.from({ length: id - 1 }, (_, i) => 1001 + i));
});

test("a report that is not the oldest is found and removed; an unknown one changes nothing", () => {
  const q = new InFlightRecords();
  for (const [id, offset] of [[5, 50], [6, 51], [7, 52]]) q.push(id!, offset!, 10);
  expect(q.take(99)).toBeNull();
  expect(q.take(6)).toEqual({ offset: 51, size: 10 });
  expect(q.pendingOffsets()).toEqual([50, 52]);
  expect(q.take(6)).toBeNull();
  expect(q.take(5)).toEqual({ offset: 50, size: 10 });
  expect(q.take(7)).toEqual({ offset: 52, size: 10 });
  expect(q.length).toBe(0);
  expect(q.take(7)).toBeNull();
});
