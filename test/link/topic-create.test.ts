/** How a missing target topic is created (src/link/topic-create.ts): pure, table-driven. */
import { expect, test } from "bun:test";
import { topicToCreate, type CreateSettings } from "../../src/link/topic-create.ts";
import type { ConfigEntry } from "../../src/rdkafka/admin.ts";

const entry = (name: string, value: string | null, source = "DYNAMIC_TOPIC", isSensitive = false): ConfigEntry => ({
  name, value, source, isDefault: source === "DEFAULT", isReadOnly: false, isSensitive,
});
const create = (configs: CreateSettings["configs"] = {}, copyConfigs = true): CreateSettings => ({ replicationFactor: null, copyConfigs, configs });

const RESTAMP = "the target would restamp every copied record with its own clock: created with CreateTime, records keep the source's timestamps";
const YOURSELF = "set it under link.create.configs";

/** What happens to one source config entry: the value set on the new topic, and why it was not copied. */
type Outcome = { set?: string; skipped?: string };
const rows: Array<[string, ConfigEntry, CreateSettings["configs"], Outcome]> = [
  ["set on the topic: copied", entry("retention.ms", "86400000"), {}, { set: "86400000" }],
  ["retention inherited from a source broker setting (log.retention.hours=720): copied", entry("retention.ms", "2592000000", "STATIC_BROKER"), {}, { set: "2592000000" }],
  ["cleanup.policy from a dynamic cluster-wide broker default: copied", entry("cleanup.policy", "compact", "DYNAMIC_DEFAULT_BROKER"), {}, { set: "compact" }],
  ["max.message.bytes from one broker's dynamic setting: copied", entry("max.message.bytes", "2097152", "DYNAMIC_BROKER"), {}, { set: "2097152" }],
  ["Kafka's default: not copied, not reported", entry("retention.ms", "604800000", "DEFAULT"), {}, {}],
  ["an unknown source: not copied, not reported", entry("retention.ms", "1000", "UNKNOWN"), {}, {}],
  ["inherited, not a data-contract setting: the target brokers' business", entry("segment.bytes", "4096", "STATIC_BROKER"), {}, {}],
  ["segment.bytes set on the topic: copied", entry("segment.bytes", "4096"), {}, { set: "4096" }],
  ["min.insync.replicas set on the topic: not copied", entry("min.insync.replicas", "2"), {}, { skipped: `depends on the target's replication factor: ${YOURSELF}` }],
  ["min.insync.replicas inherited from the brokers: not reported", entry("min.insync.replicas", "1", "STATIC_BROKER"), {}, {}],
  ["min.insync.replicas under create.configs: set", entry("min.insync.replicas", "2"), { "min.insync.replicas": "3" }, { set: "3" }],
  ["LogAppendTime on the topic: CreateTime instead", entry("message.timestamp.type", "LogAppendTime"), {}, { set: "CreateTime", skipped: RESTAMP }],
  ["LogAppendTime inherited from the brokers: CreateTime instead", entry("message.timestamp.type", "LogAppendTime", "STATIC_BROKER"), {}, { set: "CreateTime", skipped: RESTAMP }],
  ["CreateTime on the topic: copied", entry("message.timestamp.type", "CreateTime"), {}, { set: "CreateTime" }],
  ["confluent.*: not copied", entry("confluent.placement.constraints", "{}"), {}, { skipped: "Confluent Server only" }],
  ["remote.storage.enable: not copied", entry("remote.storage.enable", "true"), {}, { skipped: `tiered storage must be set up on the target first: ${YOURSELF}` }],
  ["remote.storage.enable under create.configs: set", entry("remote.storage.enable", "true"), { "remote.storage.enable": "true" }, { set: "true" }],
  ["local.retention.ms: not copied", entry("local.retention.ms", "3600000"), {}, { skipped: `applies with tiered storage only: ${YOURSELF}` }],
  ["message.format.version: not copied", entry("message.format.version", "2.8-IV1"), {}, { skipped: "removed in Kafka 4" }],
  ["message.downconversion.enable: not copied", entry("message.downconversion.enable", "false"), {}, { skipped: "removed in Kafka 4" }],
  ["throttled replicas: not copied", entry("leader.replication.throttled.replicas", "0:1"), {}, { skipped: "names broker ids of the source" }],
  ["a sensitive one (the source hides its value): not copied", entry("some.secret", null, "DYNAMIC_TOPIC", true), {}, { skipped: `a sensitive value the source does not reveal: ${YOURSELF}` }],
  ["create.configs overrides a copied one", entry("compression.type", "lz4"), { "compression.type": "zstd" }, { set: "zstd" }],
  ["create.configs null drops a copied one", entry("retention.ms", "86400000"), { "retention.ms": null }, { skipped: "dropped under link.create.configs" }],
  ["create.configs null on a skipped one keeps its reason", entry("min.insync.replicas", "2"), { "min.insync.replicas": null }, { skipped: `depends on the target's replication factor: ${YOURSELF}` }],
  ["create.configs null drops the CreateTime that replaces LogAppendTime", entry("message.timestamp.type", "LogAppendTime"), { "message.timestamp.type": null }, { skipped: RESTAMP }],
];

for (const [name, e, configs, outcome] of rows) {
  test(name, () => {
    const made = topicToCreate(3, [e], create(configs));
    const seen: Outcome = { set: made.configs[e.name], skipped: made.skipped[e.name] };
    expect(seen).toEqual(outcome);
    // nothing else appears
    expect(Object.keys(made.configs).filter((k) => k !== e.name)).toEqual([]);
    expect(Object.keys(made.skipped).filter((k) => k !== e.name)).toEqual([]);
  });
}

test("partitions and replication factor; a whole topic", () => {
  const made = topicToCreate(
    6,
    [entry("cleanup.policy", "compact"), entry("min.compaction.lag.ms", "60000"), entry("retention.bytes", "-1", "DEFAULT"), entry("min.insync.replicas", "2")],
    { replicationFactor: 3, copyConfigs: true, configs: { "compression.type": "zstd" } },
  );
  expect(made).toEqual({
    partitions: 6,
    replicationFactor: 3,
    configs: { "cleanup.policy": "compact", "min.compaction.lag.ms": "60000", "compression.type": "zstd" },
    skipped: { "min.insync.replicas": `depends on the target's replication factor: ${YOURSELF}` },
  });
});

test("copyConfigs: false: only create.configs, nothing reported as skipped", () => {
  const made = topicToCreate(1, [entry("retention.ms", "86400000"), entry("message.timestamp.type", "LogAppendTime")], create({ "max.message.bytes": "2097152" }, false));
  expect(made).toEqual({ partitions: 1, replicationFactor: null, configs: { "max.message.bytes": "2097152" }, skipped: {} });
});
