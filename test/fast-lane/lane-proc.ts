/**
 * A fast-lane copy that can be killed and started again, for kill-restart.test.ts: it resumes
 * every partition at the target's end offset (offsets are identical) and writes with a producer
 * identity kept in a file, created before its first write and shared by every later start
 * (docs/workers.md: a batch's sequence is its offset, so a late request of a killed run is
 * refused). Prints a line per round; exits 0 once the target ends where the source does.
 *
 *   bun test/fast-lane/lane-proc.ts '{"source":"h:p","target":"h:p","topic":"t","partitions":6,"identityFile":"/tmp/x.json","paceMs":10}'
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { BatchCopier } from "../../src/fast-lane/batch-copier.ts";
import { GroupClient } from "../../src/group/index.ts";
import { Admin } from "../../src/rdkafka/index.ts";

/** paceMs: a pause after every round, so that a test can kill the copy in its middle. */
const o = JSON.parse(process.argv[2]!) as { source: string; target: string; topic: string; partitions: number; identityFile: string; paceMs?: number };
const source = new GroupClient({ config: { "bootstrap.servers": o.source } });
const target = new GroupClient({ config: { "bootstrap.servers": o.target } });

async function identity(): Promise<{ id: bigint; epoch: number }> {
  if (existsSync(o.identityFile)) {
    const saved = JSON.parse(readFileSync(o.identityFile, "utf8"));
    return { id: BigInt(saved.id), epoch: saved.epoch };
  }
  const fresh = await new BatchCopier(source, target).initProducer();
  writeFileSync(`${o.identityFile}.tmp`, JSON.stringify({ id: String(fresh.id), epoch: fresh.epoch }));
  renameSync(`${o.identityFile}.tmp`, o.identityFile);
  return fresh;
}

async function ends(bootstrap: string): Promise<number[]> {
  const admin = new Admin({ "bootstrap.servers": bootstrap });
  try {
    const marks = await admin.watermarks(Array.from({ length: o.partitions }, (_, partition) => ({ topic: o.topic, partition })));
    return Array.from({ length: o.partitions }, (_, p) => marks.find((m) => m.partition === p)!.high);
  } finally {
    admin.close();
  }
}

const shared = { ...(await identity()), anchor: () => 0 };
// about one batch per partition and round: the copy takes long enough to be killed in its middle
const lane = new BatchCopier(source, target, { maxBytes: 1024, sharedProducer: shared });
const targetEnds = await ends(o.target);
let parts = targetEnds.map((next, partition) => ({ partition: { topic: o.topic, partition }, next }));
process.stdout.write(JSON.stringify({ type: "resumed", at: targetEnds }) + "\n");
for (;;) {
  const results = await lane.copyRounds(parts);
  for (const r of results) {
    if (r.error && !r.error.retriable) throw r.error;
    if (r.stoppedAt) throw new Error(`partition ${r.partition.partition} left the lane at ${r.stoppedAt.offset}: ${r.stoppedAt.reason}`);
  }
  parts = results.map((r) => ({ partition: r.partition, next: r.next }));
  process.stdout.write(JSON.stringify({ type: "round", copied: results.reduce((n, r) => n + r.copiedRecords, 0) }) + "\n");
  if (o.paceMs) await Bun.sleep(o.paceMs);
  if (results.some((r) => r.error)) await Bun.sleep(100);
  else if (results.every((r) => r.next >= r.highWatermark)) {
    const sourceEnds = await ends(o.source);
    if (parts.every((x, p) => x.next >= sourceEnds[p]!)) break;
  }
}
source.close();
target.close();
process.exit(0);
