/**
 * Start alignment (docs/offsets.md): the target partition's log starts at the same offset as the
 * copied range of the source, S (the source's log start offset, or where `link.start` begins).
 * The empty target partition gets filler records up to S, then DeleteRecords moves its log start
 * to S. The fillers are visible for that moment only: the partition is new and nobody reads it
 * yet, and a restart after a kill -9 just goes on from wherever the fillers reached.
 *
 * DeleteRecords needs `delete` in cleanup.policy: a compact-only topic is switched to
 * `compact,delete` once for all its partitions, and back afterwards (CleanupPolicySwitch).
 */
import { AlterConfigOp, ErrorCode, KafkaError, type Admin, type Producer } from "../rdkafka/index.ts";
import type { Store } from "../state/store.ts";
import { FILLER_KEY } from "./fillers.ts";
import { stateKey } from "./partition/state.ts";

/** Fills target offsets `from`..`start - 1` of an empty (or partly aligned) partition, then moves its log start to `start`. */
export async function alignStart(producer: Producer, policy: CleanupPolicySwitch, topic: string, partition: number, from: number, start: number, logStart: number): Promise<void> {
  if (from < start) {
    // In order through the idempotent producer; the last one's report says where they all went.
    for (let offset = from; offset < start - 1; offset++) {
      for (;;) {
        try {
          producer.produce({ topic, partition, key: FILLER_KEY, value: null });
          break;
        } catch (err) {
          if (!(err instanceof KafkaError) || err.code !== ErrorCode.QUEUE_FULL) throw err;
          producer.poll();
          await Bun.sleep(1);
        }
      }
    }
    const report = await producer.send({ topic, partition, key: FILLER_KEY, value: null });
    if (report.offset !== start - 1) throw new Error(`${topic}[${partition}]: the last alignment filler landed at offset ${report.offset}, not ${start - 1}; something else writes to this target partition`);
  }
  if (logStart < start) await policy.deleteRecords(topic, partition, start);
}

/** A policy switch is remembered in the state (stateKey.cleanupPolicy): a kill -9 may come between the switch and the restore. */
const noteKey = stateKey.cleanupPolicy;

/**
 * Lets DeleteRecords run on compact-only topics: switches the topic to `compact,delete` once while
 * any of its partitions needs it (`hold`/`release`), waits until the broker applies it, and puts the
 * policy back after the last. The original policy is noted in the state first, so a klink killed
 * in between puts it back at its next start (`restoreLeftovers`).
 */
export class CleanupPolicySwitch {
  private readonly holds = new Map<string, { count: number; switched: Promise<string | null> | null }>();

  constructor(
    private readonly admin: Admin,
    private readonly store: Store,
    private readonly log: (line: string) => void,
  ) {}

  /** Puts back the policies a killed klink left switched. */
  async restoreLeftovers(topics: string[]): Promise<void> {
    for (const topic of topics) {
      const original = await this.store.get(noteKey(topic));
      if (original === null) continue;
      await this.admin.incrementalAlterTopicConfigs(topic, [{ name: "cleanup.policy", op: AlterConfigOp.SET, value: original }]);
      await this.store.write([{ put: noteKey(topic), value: null }]);
      this.log(`${topic}: cleanup.policy put back to ${original} on the target (a stopped klink had switched it to delete records)`);
    }
  }

  /** Once switched, `topic` keeps `delete` in its policy until the matching `release`. */
  hold(topic: string): void {
    const h = this.holds.get(topic);
    if (h) h.count++;
    else this.holds.set(topic, { count: 1, switched: null });
  }

  async release(topic: string): Promise<void> {
    const h = this.holds.get(topic);
    if (!h || --h.count > 0) return;
    this.holds.delete(topic);
    const original = h.switched ? await h.switched.catch(() => null) : null;
    if (original === null) return; // never switched
    await this.admin.incrementalAlterTopicConfigs(topic, [{ name: "cleanup.policy", op: AlterConfigOp.SET, value: original }]);
    await this.store.write([{ put: noteKey(topic), value: null }]);
  }

  /** DeleteRecords before `offset`, retried while a policy switch is not applied yet (bounded). */
  async deleteRecords(topic: string, partition: number, offset: number): Promise<void> {
    this.hold(topic);
    try {
      const h = this.holds.get(topic)!;
      await (h.switched ??= this.allowDelete(topic));
      const deadline = Date.now() + 60_000;
      for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
        try {
          await this.admin.deleteRecords([{ topic, partition, offset }]);
          return;
        } catch (err) {
          if (!(err instanceof KafkaError) || err.codeName !== "POLICY_VIOLATION" || Date.now() > deadline) throw err;
          await Bun.sleep(delay);
        }
      }
    } finally {
      await this.release(topic);
    }
  }

  /** Switches a compact-only topic to compact,delete and waits until the broker shows it; returns the original policy (null: no switch). */
  private async allowDelete(topic: string): Promise<string | null> {
    const policy = await this.policyOf(topic);
    if (policy.split(",").includes("delete")) return null;
    await this.store.write([{ put: noteKey(topic), value: policy }]);
    await this.admin.incrementalAlterTopicConfigs(topic, [{ name: "cleanup.policy", op: AlterConfigOp.SET, value: "compact,delete" }]);
    const deadline = Date.now() + 30_000;
    while (!(await this.policyOf(topic)).split(",").includes("delete") && Date.now() < deadline) await Bun.sleep(200);
    return policy;
  }

  private async policyOf(topic: string): Promise<string> {
    const configs = await this.admin.describeTopicConfigs(topic);
    return configs.find((c) => c.name === "cleanup.policy")?.value ?? "delete";
  }
}
