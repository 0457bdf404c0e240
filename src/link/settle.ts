/**
 * Before a restart reads a partition's end (docs/loops.md, "Settle before reading the ends"):
 * records a killed klink appended on a leader but that no follower had copied yet sit above the
 * high watermark, invisible, and appear a moment later. Resuming before they appear would copy
 * them again. With every replica in sync they appear within a follower's fetch wait (0.5 s by
 * default); a follower out of sync drops out of the ISR within replica.lag.time.max.ms (30 s by
 * default).
 */
import type { Admin } from "../rdkafka/index.ts";

export async function settleReplication(admin: Admin, topic: string, partitions: number[], log: (line: string) => void, timeoutMs = 35_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let warned = false;
  for (;;) {
    const [desc] = await admin.describeTopics([topic]);
    const parts = desc!.partitions.filter((p) => partitions.includes(p.partition));
    if (parts.every((p) => p.replicas.length <= 1)) return; // one replica: the high watermark is the log end
    const lagging = parts.filter((p) => p.isr.length < p.replicas.length);
    if (lagging.length === 0 || Date.now() > deadline) break;
    if (!warned) log(`${topic}: waiting for replicas of partitions ${lagging.map((p) => p.partition).join(", ")} to catch up before resuming`);
    warned = true;
    await Bun.sleep(500);
  }
  await Bun.sleep(1_500); // a follower's fetch wait, twice over
}
