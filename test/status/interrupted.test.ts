/**
 * A partition interrupted by a cluster that did not answer in time (interrupted.ts) is tried
 * again by klink itself: the status says so instead of STOPPED, which asks the operator to act.
 * Seen in nemesis seed 130: a target broker down twice for 40 s timed out a flush; klink was
 * stopped 9 s after the target answered again, before its retry, and reported the partition as
 * "stopped" like one that needs `klink resume`.
 */
import { expect, test } from "bun:test";
import { byTopic } from "../../src/status/progress.ts";
import { notReadyReasons } from "../../src/status/health.ts";
import type { PartitionProgress } from "../../src/link/partition/progress.ts";

const partition = (n: number, more: Partial<PartitionProgress>): PartitionProgress => ({
  topic: "orders", partition: n, mode: "exact", next: 10, sourceEnd: 20, copiedRecords: 10, copiedBytes: 100, copiedTimestamp: 0, error: null, ...more,
});
const timedOut = "klink-orders#producer-17: 69 records still undelivered after 30000 ms (_TIMED_OUT)";

test("an interrupted partition is counted apart from stopped ones, and readyz says klink tries again", () => {
  const partitions = [partition(0, {}), partition(1, { error: timedOut, retrying: true }), partition(2, { error: "a record larger than max.message.bytes" })];
  expect(byTopic(partitions).map((t) => ({ stopped: t.stopped, retrying: t.retrying }))).toEqual([{ stopped: 2, retrying: 1 }]);
  const reasons = notReadyReasons({ partitions, clusters: null });
  expect(reasons).toContain(`orders[1] interrupted: ${timedOut} (klink tries again by itself)`);
  expect(reasons.filter((r) => r.startsWith("orders[2] stopped: "))).toHaveLength(1);
});
