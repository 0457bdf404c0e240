/** What live config sync changes on the target topic (src/link/config-sync.ts configDrift): pure, table-driven. */
import { expect, test } from "bun:test";
import { configDrift } from "../../src/link/config-sync.ts";
import type { CreateSettings } from "../../src/link/topic-create.ts";
import type { ConfigEntry } from "../../src/rdkafka/admin.ts";

const entry = (name: string, value: string | null, source = "DYNAMIC_TOPIC", isSensitive = false): ConfigEntry => ({
  name, value, source, isDefault: source === "DEFAULT", isReadOnly: false, isSensitive,
});
const create = (configs: CreateSettings["configs"] = {}, copyConfigs = true): CreateSettings => ({ replicationFactor: null, copyConfigs, configs });

const rows: Array<[string, ConfigEntry[], ConfigEntry[], { configs?: CreateSettings["configs"]; copy?: boolean; exclude?: string[] }, ReturnType<typeof configDrift>]> = [
  ["a changed topic config: set", [entry("retention.ms", "3600000")], [entry("retention.ms", "86400000")], {}, [{ name: "retention.ms", source: "3600000", target: "86400000" }]],
  ["a new topic config: set over the target's default", [entry("max.message.bytes", "2000000")], [entry("max.message.bytes", "1048588", "DEFAULT")], {}, [{ name: "max.message.bytes", source: "2000000", target: "1048588" }]],
  ["equal: nothing", [entry("retention.ms", "1")], [entry("retention.ms", "1")], {}, []],
  ["removed on the source: removed on the target", [entry("segment.ms", "604800000", "DEFAULT")], [entry("segment.ms", "7200000")], {}, [{ name: "segment.ms", source: null, target: "7200000" }]],
  ["a target config the source does not know (newer Kafka): kept", [], [entry("new.in.kafka4", "x")], {}, []],
  ["excluded: kept either way", [entry("retention.ms", "1"), entry("segment.ms", "1", "DEFAULT")], [entry("retention.ms", "2"), entry("segment.ms", "2")], { exclude: ["retention.ms", "segment.ms"] }, []],
  ["under create.configs: the target's own", [entry("retention.ms", "1"), entry("segment.ms", "1", "DEFAULT")], [entry("retention.ms", "2"), entry("segment.ms", "2")], { configs: { "retention.ms": "2", "segment.ms": null } }, []],
  ["min.insync.replicas set only on the target: kept", [entry("min.insync.replicas", "1", "DEFAULT")], [entry("min.insync.replicas", "2")], {}, []],
  ["min.insync.replicas changed on the source: not copied", [entry("min.insync.replicas", "2")], [entry("min.insync.replicas", "1", "DEFAULT")], {}, []],
  ["LogAppendTime on the source: the target keeps CreateTime", [entry("message.timestamp.type", "LogAppendTime")], [entry("message.timestamp.type", "CreateTime")], {}, []],
  ["LogAppendTime set on the target: not reset by sync (plan reports it)", [entry("message.timestamp.type", "CreateTime", "DEFAULT")], [entry("message.timestamp.type", "LogAppendTime")], {}, []],
  ["a sensitive value: never", [entry("secret.thing", null, "DYNAMIC_TOPIC", true)], [entry("secret.thing", null, "DYNAMIC_TOPIC", true)], {}, []],
  ["copyConfigs false: nothing synced", [entry("retention.ms", "1")], [entry("retention.ms", "2")], { copy: false }, []],
  ["a data setting inherited from the source's brokers: set", [entry("retention.ms", "2592000000", "STATIC_BROKER")], [entry("retention.ms", "604800000", "DEFAULT")], {}, [{ name: "retention.ms", source: "2592000000", target: "604800000" }]],
];

for (const [name, source, target, o, expected] of rows) {
  test(name, () => {
    expect(configDrift(source, target, create(o.configs ?? {}, o.copy ?? true), o.exclude ?? [])).toEqual(expected);
  });
}
