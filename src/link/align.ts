/**
 * Start alignment: before the first copied record, the empty target partition gets as many
 * offsets as the source's first copied offset, then DeleteRecords moves its log start there.
 * Offsets ≥ 2 are filled invisibly (an aborted transaction); a single offset can only be a
 * visible filler record, which DeleteRecords removes at once (the topic is new: no client
 * reads it yet).
 */
import { AlterConfigOp, type Admin, type Producer } from "../rdkafka/index.ts";
import { FILLER_KEY, type SlotFiller } from "./fillers.ts";

export async function alignPrefix(admin: Admin, filler: SlotFiller, producer: Producer, topic: string, partition: number, count: number): Promise<void> {
  if (count === 0) return;
  if (count === 1) {
    const report = await producer.send({ topic, partition, key: FILLER_KEY, value: null });
    if (report.offset !== 0) throw new Error(`${topic}[${partition}]: the alignment filler landed at offset ${report.offset}, not 0`);
  } else {
    await filler.fillAborted(topic, partition, count, 0);
  }
  await deleteRecordsBefore(admin, topic, partition, count);
}

/** DeleteRecords needs `delete` in cleanup.policy: add it for the call on compact-only topics. */
async function deleteRecordsBefore(admin: Admin, topic: string, partition: number, offset: number): Promise<void> {
  const configs = await admin.describeTopicConfigs(topic);
  const policy = configs.find((c) => c.name === "cleanup.policy")?.value ?? "delete";
  const compactOnly = !policy.split(",").includes("delete");
  if (compactOnly) await admin.incrementalAlterTopicConfigs(topic, [{ name: "cleanup.policy", op: AlterConfigOp.SET, value: "compact,delete" }]);
  try {
    await admin.deleteRecords([{ topic, partition, offset }]);
  } finally {
    if (compactOnly) await admin.incrementalAlterTopicConfigs(topic, [{ name: "cleanup.policy", op: AlterConfigOp.SET, value: policy }]);
  }
}
