/**
 * Live topic config sync (`link.configSync`): while a topic is mirrored, its target topic's configs
 * follow the source's, by the rules of topic creation (topic-create.ts): what creation would copy
 * is set on the target when it differs; a config the source topic no longer sets is removed from
 * the target topic (the target's default applies). Never touched: names under `create.configs`
 * (the target's own settings), `configSync.exclude`, and what creation never copies (with why:
 * min.insync.replicas, tiered storage, LogAppendTime, ...). After promote the target is the
 * authority: nothing is synced, in either direction. `klink plan` shows the same differences.
 * Partition counts are followed by watchers.ts.
 */
import { BackgroundRound } from "./background-round.ts";
import { AlterConfigOp, KafkaError, type Admin, type ConfigEntry } from "../rdkafka/index.ts";
import type { Store } from "../state/store.ts";
import type { TopicSettings } from "../config/types.ts";
import { notCopiedBecause, topicToCreate, type CreateSettings } from "./topic-create.ts";
import { stateKey } from "./partition/state.ts";

/** Topics whose configs one DescribeConfigs request asks for. */
const TOPICS_PER_REQUEST = 100;

export type ConfigSyncSettings = TopicSettings["configSync"];

/** A config the target topic has otherwise than the source gives it; null: not set on the topic (its default applies). */
export interface ConfigDifference {
  name: string;
  source: string | null;
  target: string | null;
}

/** How often each linked topic's configs are compared. */
export const CONFIG_SYNC_INTERVAL_MS = 5_000;

/**
 * What the sync would change on the target topic: configs creation would copy that differ, and
 * configs set on the target topic that the source topic no longer sets (names both know).
 */
export function configDrift(sourceConfigs: ConfigEntry[], targetConfigs: ConfigEntry[], create: CreateSettings, exclude: string[]): ConfigDifference[] {
  if (!create.copyConfigs) return [];
  const { configs: wanted, skipped } = topicToCreate(0, sourceConfigs, { ...create, configs: {} });
  const kept = (e: { name: string; value: string | null }) =>
    e.name in create.configs || exclude.includes(e.name) || e.name in skipped || (e.value !== null && notCopiedBecause(e.name, e.value) !== null);
  const target = new Map(targetConfigs.map((e) => [e.name, e]));
  const out: ConfigDifference[] = [];
  for (const [name, value] of Object.entries(wanted)) {
    const t = target.get(name);
    if (kept({ name, value }) || t?.isSensitive || t?.value === value) continue;
    out.push({ name, source: value, target: t?.value ?? null });
  }
  const sourceKnows = new Set(sourceConfigs.map((e) => e.name));
  for (const t of targetConfigs) {
    if (t.source !== "DYNAMIC_TOPIC" || t.name in wanted || !sourceKnows.has(t.name) || t.isSensitive || kept(t)) continue;
    out.push({ name: t.name, source: null, target: t.value });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export interface ConfigSyncTopic {
  name: string;
  create: CreateSettings;
  configSync: ConfigSyncSettings;
}

export interface ConfigSyncContext {
  sourceAdmin: Admin;
  targetAdmin: Admin;
  store: Store;
  topics: ConfigSyncTopic[];
  /** The target is the authority for `topic` (promoted): nothing is synced. */
  promoted: (topic: string) => boolean;
  log: (line: string) => void;
}

/** Compares and syncs every CONFIG_SYNC_INTERVAL_MS, in the background of the link's run loop. */
export class ConfigSync {
  private readonly rounds = new BackgroundRound(CONFIG_SYNC_INTERVAL_MS, () => this.syncAll());
  /** Refusals already logged (topic, name, value): said once, tried again each round. */
  private readonly refused = new Set<string>();

  constructor(private readonly c: ConfigSyncContext) {}

  tick(): void {
    if (!this.c.topics.some((t) => t.configSync.enabled && t.create.copyConfigs)) return;
    this.rounds.tick();
  }

  /** The sync's admin calls have ended (before the admin clients close). */
  idle(): Promise<void> {
    return this.rounds.idle();
  }

  private async syncAll(): Promise<void> {
    const topics = this.c.topics.filter((t) => t.configSync.enabled && !this.c.promoted(t.name));
    for (let i = 0; i < topics.length; i += TOPICS_PER_REQUEST) {
      const some = topics.slice(i, i + TOPICS_PER_REQUEST);
      const names = some.map((t) => t.name);
      const [source, target] = await Promise.all([this.c.sourceAdmin.describeTopicsConfigs(names), this.c.targetAdmin.describeTopicsConfigs(names)]);
      for (let j = 0; j < some.length; j++) {
        const s = source[j]!;
        const t = target[j]!;
        // a topic gone, or not described: tried again next round (watchers.ts reports a deleted topic)
        if (s instanceof Error || t instanceof Error) continue;
        await this.syncTopic(some[j]!, s, t).catch(() => {});
      }
    }
  }

  private async syncTopic(t: ConfigSyncTopic, source: ConfigEntry[], target: ConfigEntry[]): Promise<void> {
    let changes = configDrift(source, target, t.create, t.configSync.exclude);
    // klink switched cleanup.policy to delete records at a partition's start (align.ts); that puts it back
    if (changes.some((d) => d.name === "cleanup.policy") && (await this.c.store.get(stateKey.cleanupPolicy(t.name))) !== null) {
      changes = changes.filter((d) => d.name !== "cleanup.policy");
    }
    for (const d of changes) {
      if (this.c.promoted(t.name)) return; // promoted meanwhile
      const op = d.source === null ? { name: d.name, op: AlterConfigOp.DELETE } : { name: d.name, op: AlterConfigOp.SET, value: d.source };
      try {
        await this.c.targetAdmin.incrementalAlterTopicConfigs(t.name, [op]);
      } catch (err) {
        if (!(err instanceof KafkaError)) throw err;
        const key = `${t.name}\0${d.name}\0${d.source}`;
        if (!this.refused.has(key)) {
          this.refused.add(key);
          this.c.log(`${t.name}: config ${d.name}${d.source === null ? " not removed" : `=${d.source} not copied`}: the target refused (${err.message}); set it yourself, or list it under link.configSync.exclude`);
        }
        continue;
      }
      this.c.log(d.source === null
        ? `${t.name}: config ${d.name} removed from the target topic as on the source (was ${d.target})`
        : `${t.name}: config ${d.name}=${d.source} copied from the source (was ${d.target ?? "not set"})`);
    }
  }
}
