/**
 * One worker-group member as its own process, for test/workers/worker-group.test.ts: it prints
 * every membership event as a JSON line with the wall-clock time, and leaves on SIGTERM.
 *
 *   bun test/workers/worker-proc.ts BOOTSTRAP GROUP PARTITIONS SESSION_MS
 */
import { partitionKey } from "../../src/workers/assignment.ts";
import { WorkerGroup } from "../../src/workers/worker-group.ts";

const [bootstrap, groupId, count, session] = process.argv.slice(2);
const print = (event: object) => process.stdout.write(JSON.stringify({ t: Date.now(), pid: process.pid, ...event }) + "\n");
const partitions = Array.from({ length: Number(count) }, (_, i) => partitionKey("orders", i));
const sessionTimeoutMs = Number(session);

const group = WorkerGroup.start({
  settings: { config: { "bootstrap.servers": bootstrap! } },
  groupId: groupId!,
  worker: { host: "127.0.0.1", pid: process.pid },
  partitions: () => partitions,
  sessionTimeoutMs,
  heartbeatIntervalMs: 1_000,
  rebalanceTimeoutMs: 20_000,
  onAssigned: () => undefined,
  // letting go takes a moment, as a flush of records in flight would
  onRevoked: () => Bun.sleep(200),
  onLost: () => undefined,
  onEvent: (e) => print(e.type === "error" ? { type: "error", message: e.error.message } : e),
});

process.on("SIGTERM", () => {
  void group.leave().then(() => {
    print({ type: "left" });
    process.exit(0);
  });
});
