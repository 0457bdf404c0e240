/**
 * Target topic provisioning: create a missing target topic as topic-create.ts decides (the
 * source's partition count and configs, overrides from the YAML win), and add partitions when
 * the source grows. Never shrinks or recreates anything.
 */
import type { Admin } from "../rdkafka/index.ts";
import { topicToCreate, type CreateSettings } from "./topic-create.ts";

export interface ProvisionResult {
  topic: string;
  action: "created" | "partitions-added" | "exists";
  partitions: number;
  configs?: Record<string, string>;
}

/** How a missing target topic is created (`link.create`); what it gets is topic-create.ts's decision. */
export type { CreateSettings } from "./topic-create.ts";

/**
 * The source topic's description. A topic created moments ago may be unknown to the broker asked
 * (metadata reaches every broker a little later): ask again for a few seconds.
 */
export async function describeSourceTopic(source: Admin, topic: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const [desc] = await source.describeTopics([topic]);
      return desc!;
    } catch (err) {
      if ((err as { codeName?: string }).codeName !== "UNKNOWN_TOPIC_OR_PART" || Date.now() > deadline) throw err;
      await Bun.sleep(500);
    }
  }
}

/**
 * `beforeCreate(from)` runs before klink creates target partitions `from`.. (0 for a new topic):
 * the caller stores it first, so that records found there later without partition state are known
 * to be producers' and not data the target held before (docs/offsets.md, "The start").
 */
export async function provisionTopic(source: Admin, target: Admin, topic: string, create: CreateSettings, beforeCreate: (from: number) => Promise<void> = async () => {}): Promise<ProvisionResult> {
  const src = await describeSourceTopic(source, topic);
  const partitions = src.partitions.length;
  const existing = await target.describeTopics([topic]).catch((err) => {
    if (err.codeName === "UNKNOWN_TOPIC_OR_PART" || err.codeName === "UNKNOWN_TOPIC_ID") return [];
    throw err;
  });
  if (existing.length === 0) {
    const sourceConfigs = create.copyConfigs ? await source.describeTopicConfigs(topic) : [];
    const { configs, replicationFactor } = topicToCreate(partitions, sourceConfigs, create);
    await beforeCreate(0);
    await target.createTopics([{ name: topic, partitions, replicationFactor: replicationFactor ?? -1, configs }]).catch((err) => {
      if (err.codeName === "TOPIC_ALREADY_EXISTS") return; // another instance won the race
      if (err.codeName === "INVALID_CONFIG" || err.codeName === "POLICY_VIOLATION" || err.codeName === "INVALID_REPLICATION_FACTOR") {
        err.message += `; change or drop that setting under link.create.configs (klink plan shows what the target refuses), or create the topic on the target yourself`;
      }
      throw err;
    });
    await waitForLeaders(target, topic, partitions);
    return { topic, action: "created", partitions, configs };
  }
  const have = existing[0]!.partitions.length;
  if (have < partitions) {
    await beforeCreate(have);
    await target.createPartitions([{ topic, totalCount: partitions }]);
    await waitForLeaders(target, topic, partitions);
    return { topic, action: "partitions-added", partitions };
  }
  return { topic, action: "exists", partitions: have };
}

/** A new topic's partitions need a few moments before their leaders are known everywhere. */
async function waitForLeaders(admin: Admin, topic: string, partitions: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [desc] = await admin.describeTopics([topic]).catch(() => [undefined]);
    if (desc && desc.partitions.length >= partitions && desc.partitions.every((p) => p.leader)) {
      // ListOffsets goes to each leader: ask once to be sure they answer.
      const ok = await admin.watermarks(desc.partitions.map((p) => ({ topic, partition: p.partition }))).then(() => true, () => false);
      if (ok) return;
    }
    if (Date.now() > deadline) throw new Error(`target topic ${topic}: partitions have no leader ${timeoutMs / 1000} s after creation`);
    await Bun.sleep(200);
  }
}

/** The largest record the target topic takes (its max.message.bytes): a larger one stops its partition with the reason. */
export async function targetMaxMessageBytes(target: Admin, topic: string): Promise<number> {
  const configs = await target.describeTopicConfigs(topic);
  return Number(configs.find((c) => c.name === "max.message.bytes")?.value ?? 1048588);
}
