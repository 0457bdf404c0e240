/**
 * How a missing target topic is created, decided from facts alone (no I/O): `klink run` creates
 * exactly this (provision.ts) and `klink plan` shows it, so the two cannot disagree.
 */
import type { ConfigEntry } from "../rdkafka/admin.ts";
import type { TopicSettings } from "../config/types.ts";

/** migration.yaml `link.create` (or a topic override's). */
export type CreateSettings = TopicSettings["create"];

export interface TopicCreation {
  partitions: number;
  /** null: the target broker's default. */
  replicationFactor: number | null;
  /** Set on the new topic: the copied source configs with `link.create.configs` applied. */
  configs: Record<string, string>;
  /** Source configs not copied, with why. */
  skipped: Record<string, string>;
}

/**
 * What records are kept and accepted: copied also when the source topic inherits them from its
 * brokers' own settings (a source broker with log.retention.hours=720 gives its topics 30 days;
 * the target's brokers may not). Other inherited settings are the target brokers' business.
 */
const DATA_CONTRACT = new Set([
  "cleanup.policy", "retention.ms", "retention.bytes", "delete.retention.ms", "min.compaction.lag.ms",
  "max.compaction.lag.ms", "max.message.bytes", "message.timestamp.type", "compression.type",
]);
/** Where a source broker's own setting (not Kafka's default) comes from. */
const BROKER_SETTING = new Set(["DYNAMIC_BROKER", "DYNAMIC_DEFAULT_BROKER", "STATIC_BROKER"]);

const SET_IT_YOURSELF = "set it under link.create.configs";

/** Why a source config is not copied, or null: it is. */
export function notCopiedBecause(name: string, value: string): string | null {
  if (name === "message.format.version" || name === "message.downconversion.enable") return "removed in Kafka 4";
  if (name.endsWith(".replication.throttled.replicas")) return "names broker ids of the source";
  if (name.startsWith("confluent.")) return "Confluent Server only";
  if (name === "remote.storage.enable") return `tiered storage must be set up on the target first: ${SET_IT_YOURSELF}`;
  if (name.startsWith("local.retention.")) return `applies with tiered storage only: ${SET_IT_YOURSELF}`;
  if (name === "min.insync.replicas") return `depends on the target's replication factor: ${SET_IT_YOURSELF}`;
  // A target topic with LogAppendTime stamps every copied record with the target broker's clock
  // at copy time: the source's timestamps (its own append times) would be lost (I5), time-based
  // lookups and time retention on the target would follow the copy, not the data. The new topic
  // gets CreateTime instead (set explicitly: the target's brokers may default to LogAppendTime),
  // so each record keeps the time the source stamped. validate refuses LogAppendTime under
  // link.create.configs for the same reason; after promote an operator may switch it.
  if (name === "message.timestamp.type" && value === "LogAppendTime") {
    return "the target would restamp every copied record with its own clock: created with CreateTime, records keep the source's timestamps";
  }
  return null;
}

/**
 * The target topic to create for a source topic with `partitions` partitions and these config
 * entries (as DescribeConfigs returns them, with their source).
 */
export function topicToCreate(partitions: number, sourceConfigs: ConfigEntry[], create: CreateSettings): TopicCreation {
  const configs: Record<string, string> = {};
  const skipped: Record<string, string> = {};
  if (create.copyConfigs) {
    for (const e of sourceConfigs) {
      const candidate = e.source === "DYNAMIC_TOPIC" || (DATA_CONTRACT.has(e.name) && BROKER_SETTING.has(e.source));
      if (!candidate) continue;
      if (e.isSensitive) {
        skipped[e.name] = `a sensitive value the source does not reveal: ${SET_IT_YOURSELF}`;
        continue;
      }
      if (e.value === null) continue;
      const why = notCopiedBecause(e.name, e.value);
      if (why) skipped[e.name] = why;
      else configs[e.name] = e.value;
    }
    if (skipped["message.timestamp.type"]) configs["message.timestamp.type"] = "CreateTime";
  }
  for (const [k, v] of Object.entries(create.configs)) {
    if (v !== null) {
      configs[k] = v;
      delete skipped[k];
    } else if (k in configs) {
      delete configs[k];
      skipped[k] ??= "dropped under link.create.configs";
    }
  }
  return { partitions, replicationFactor: create.replicationFactor, configs, skipped };
}
