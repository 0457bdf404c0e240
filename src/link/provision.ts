/**
 * Target topic provisioning: create a missing target topic with the source's partition count
 * and topic-level configs (overrides from the YAML win), and add partitions when the source
 * grows. Never shrinks or recreates anything.
 */
import type { Admin, ConfigEntry } from "../rdkafka/index.ts";

/** Configs that describe one cluster's brokers or internals, not the topic's data contract. */
const NOT_COPIED = [
  /^leader\.replication\.throttled\.replicas$/,
  /^follower\.replication\.throttled\.replicas$/,
  /^message\.format\.version$/, // gone in Kafka 4.x
  /^confluent\./,
  /^remote\.storage\.enable$/,
  /^local\.retention\./,
  /^min\.insync\.replicas$/, // depends on the target's replication factor: set it under link.create.configs
];

/** What records are kept and accepted: copied also when the source inherits them from its brokers. */
const DATA_CONTRACT = new Set([
  "cleanup.policy", "retention.ms", "retention.bytes", "delete.retention.ms", "min.compaction.lag.ms",
  "max.compaction.lag.ms", "max.message.bytes", "message.timestamp.type", "compression.type",
]);

/**
 * The source topic's configs that are not Kafka's defaults: set on the topic, or inherited from
 * the source brokers' own settings (a source broker with log.retention.hours=720 gives its topics
 * 30 days; the target broker may not), so the target topic behaves as the source topic does.
 */
export function copiableConfigs(entries: ConfigEntry[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    if (e.value === null || e.isSensitive) continue;
    if (e.source !== "DYNAMIC_TOPIC" && !(DATA_CONTRACT.has(e.name) && e.source !== "DEFAULT" && e.source !== "UNKNOWN")) continue;
    if (NOT_COPIED.some((re) => re.test(e.name))) continue;
    out[e.name] = e.value;
  }
  return out;
}

export interface ProvisionResult {
  topic: string;
  action: "created" | "partitions-added" | "exists";
  partitions: number;
  configs?: Record<string, string>;
}

/** How to create a missing target topic (migration.yaml `link.create`). */
export interface CreateSettings {
  /** null: the target broker's default. */
  replicationFactor: number | null;
  copyConfigs: boolean;
  /** Over the copied configs; null drops a copied one. */
  configs: Record<string, string | null>;
}

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

export async function provisionTopic(source: Admin, target: Admin, topic: string, create: CreateSettings): Promise<ProvisionResult> {
  const src = await describeSourceTopic(source, topic);
  const partitions = src.partitions.length;
  const existing = await target.describeTopics([topic]).catch((err) => {
    if (err.codeName === "UNKNOWN_TOPIC_OR_PART" || err.codeName === "UNKNOWN_TOPIC_ID") return [];
    throw err;
  });
  if (existing.length === 0) {
    const configs: Record<string, string> = create.copyConfigs ? copiableConfigs(await source.describeTopicConfigs(topic)) : {};
    for (const [k, v] of Object.entries(create.configs)) {
      if (v === null) delete configs[k];
      else configs[k] = v;
    }
    await target.createTopics([{ name: topic, partitions, replicationFactor: create.replicationFactor ?? -1, configs }]).catch((err) => {
      if (err.codeName !== "TOPIC_ALREADY_EXISTS") throw err; // another instance won the race
    });
    await waitForLeaders(target, topic, partitions);
    return { topic, action: "created", partitions, configs };
  }
  const have = existing[0]!.partitions.length;
  if (have < partitions) {
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
