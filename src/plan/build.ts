/**
 * Builds the plan: reads both clusters with read-only admin calls (Metadata, ListOffsets,
 * DescribeConfigs, DescribeCluster, ListGroups, DescribeGroups, OffsetFetch) and klink's state,
 * then applies decide.ts. A call refused for lack of permission becomes a problem; other errors
 * propagate (the caller exits with code 2).
 */
import { type Admin, type ConfigEntry, type GroupDescription, type GroupListing } from "../rdkafka/admin.ts";
import { KafkaError } from "../rdkafka/errors.ts";
import { targetIsPrimary, type Store } from "../state/store.ts";
import { patternText, select, selects, settingsFor } from "../config/select.ts";
import type { MigrationConfig } from "../config/types.ts";
import { topicToCreate } from "../link/topic-create.ts";
import { configDriftPlan } from "./config-drift.ts";
import { aclPlan } from "./acl-plan.ts";
import { groupOffsetsPlan } from "./group-offsets-plan.ts";
import { selectTopics } from "../link/session.ts";
import { stateKey } from "../link/partition/state.ts";
import { decidePartition, type PartitionFacts } from "./decide.ts";
import type { GroupPlan, Plan, Problem, TopicPlan } from "./types.ts";

const AUTHORIZATION_FAILED = new Set([29, 30, 31]); // TOPIC_, GROUP_, CLUSTER_AUTHORIZATION_FAILED
/** Groups whose offsets are read to find readers of linked topics that `groups` leaves out. */
const MAX_GROUPS_SCANNED = 500;

export interface Clusters {
  source: Admin;
  target: Admin;
}

export async function buildPlan(config: MigrationConfig, admins: Clusters, store: Store): Promise<Plan> {
  const problems: Problem[] = [];
  const problem = (severity: Problem["severity"], subject: string, message: string) => problems.push({ severity, subject, message });
  /** Runs `fn`; a permission error becomes a problem and `fallback` is returned. */
  const guarded = async <T>(role: "source" | "target", what: string, fn: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof KafkaError && AUTHORIZATION_FAILED.has(err.code)) {
        problem("error", `${role} cluster`, `missing permission to ${what} (${err.codeName}): grant it to klink's principal`);
        return fallback;
      }
      throw err;
    }
  };

  const [sourceCluster, targetCluster] = await Promise.all([admins.source.describeCluster(), admins.target.describeCluster()]);
  const sourceTopics = new Map(admins.source.listTopics().map((t) => [t.name, t.partitions]));
  const targetTopics = new Map(admins.target.listTopics().map((t) => [t.name, t.partitions]));

  // --- topics
  const { selected, missing } = selectTopics(config, [...sourceTopics.keys()]);
  for (const t of missing) problem("warning", `topic ${t}`, `listed in link.topics but does not exist on the source (yet): \`klink run\` links it once it is created there (looked for every ${config.link.topicsRefreshSeconds} s)`);
  config.link.topics.patterns.forEach((r, i) => {
    if (![...sourceTopics.keys()].some((t) => r.test(t))) problem("warning", `link.topics.regex[${i}]`, `'${patternText(r)}' matches no topic on the source`);
  });
  if (selected.length === 0) problem("error", "link.topics", "selects no topic that exists on the source: nothing to mirror");

  const unwritable = store.writeProblem?.();
  if (unwritable) problem("error", "state", unwritable);
  const linked = new Map((await store.topics()).map((t) => [t.topic, t.state]));
  const recorded = new Map((await store.partitions()).map((p) => [`${p.topic}\0${p.partition}`, p]));
  const topics: TopicPlan[] = [];
  for (const topic of selected) {
    const settings = settingsFor(config.link, topic);
    const partitions = sourceTopics.get(topic)!;
    const ids = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }));
    const sourceConfigs = await guarded("source", `describe the configs of topic ${topic}`, () => admins.source.describeTopicConfigs(topic), [] as ConfigEntry[]);
    const sourceOffsets = await admins.source.watermarks(ids, true); // the last stable offset, as run reads it
    const timestampOffsets =
      settings.start.kind === "timestamp" ? await admins.source.listOffsets(ids.map((p) => ({ ...p, offset: (settings.start as { timestampMs: number }).timestampMs }))) : [];

    const targetPartitions = targetTopics.get(topic);
    const exists = targetPartitions !== undefined;
    const targetConfigs = exists ? await guarded("target", `describe the configs of topic ${topic}`, () => admins.target.describeTopicConfigs(topic), [] as ConfigEntry[]) : [];
    const targetOffsets = exists ? await admins.target.watermarks(ids.filter((p) => p.partition < targetPartitions)) : [];
    const create = exists ? null : topicToCreate(partitions, sourceConfigs, settings.create);

    const cleanupPolicy = configValue(sourceConfigs, "cleanup.policy") ?? "delete";
    // the policy the target topic has, or will be created with
    const targetPolicy = (create ? (create.configs["cleanup.policy"] ?? cleanupPolicy) : configValue(targetConfigs, "cleanup.policy")) ?? "delete";
    // klink wrote this topic's target data if it has a lifecycle state, or a Fetcher recorded a partition
    const linkedState = linked.get(topic) ?? (ids.some((p) => recorded.has(`${topic}\0${p.partition}`)) ? "mirroring" : null);
    const createdFrom = await store.get(stateKey.createdFrom(topic));
    const partitionPlans = sourceOffsets.map((o) => {
      const t = targetOffsets.find((x) => x.partition === o.partition);
      const facts: PartitionFacts = { partition: o.partition, sourceLogStart: o.low, sourceLogEnd: o.high };
      const ts = timestampOffsets.find((x) => x.partition === o.partition);
      if (ts) facts.timestampOffset = ts.offset;
      if (t) Object.assign(facts, { targetLogStart: t.low, targetLogEnd: t.high });
      const rec = recorded.get(`${topic}\0${o.partition}`);
      return decidePartition(facts, {
        settings,
        linkedState,
        recordedMode: rec ? { mode: rec.mode, sinceOffset: rec.sinceOffset } : null,
        targetDeletable: targetPolicy.split(",").map((s) => s.trim()).includes("delete"),
        createdByKlink: createdFrom !== null && o.partition >= Number(createdFrom),
      });
    });

    const plan: TopicPlan = {
      topic,
      partitions,
      target: exists ? { partitions: targetPartitions, linkedState } : null,
      create,
      configDrift: exists ? configDriftPlan(sourceConfigs, targetConfigs, settings, linkedState) : null,
      cleanupPolicy,
      partitionPlans,
    };
    topics.push(plan);
    topicProblems(plan, sourceConfigs, targetConfigs, settings.offsets, problem);
    if (create) {
      // The target checks the topic run would create (CreateTopics, validate only: nothing is created).
      await admins.target
        .createTopics([{ name: topic, partitions: create.partitions, replicationFactor: create.replicationFactor ?? -1, configs: create.configs }], { validateOnly: true })
        .catch((err: Error) => {
          if (err instanceof KafkaError && AUTHORIZATION_FAILED.has(err.code)) problem("error", "target cluster", `missing permission to create topic ${topic} (${err.codeName}): grant CREATE to klink's principal, or create the topic yourself`);
          else problem("error", `topic ${topic}`, `the target refuses to create it as planned (${err.message}): change or drop that setting under link.create.configs`);
        });
    }
  }

  // --- groups
  const sourceGroups = await guarded("source", "list consumer groups", () => admins.source.listConsumerGroups(), [] as GroupListing[]);
  const targetGroups = await guarded("target", "list consumer groups", () => admins.target.listConsumerGroups(), [] as GroupListing[]);
  const chosen = select(config.groups, sourceGroups.map((g) => g.groupId));
  for (const g of chosen.missing) problem("warning", `group ${g}`, "listed in groups but not found on the source (it may not have committed yet)");
  const linkedTopics = new Set(selected);
  const groups: GroupPlan[] = [];
  const descriptions = chosen.selected.length
    ? await guarded("source", "describe consumer groups", () => admins.source.describeConsumerGroups(chosen.selected), [] as GroupDescription[])
    : [];
  const targetDescriptions = new Map(
    (await guarded("target", "describe consumer groups", async () => {
      const onTarget = chosen.selected.filter((g) => targetGroups.some((t) => t.groupId === g));
      return onTarget.length ? admins.target.describeConsumerGroups(onTarget) : [];
    }, [] as GroupDescription[])).map((d) => [d.groupId, d]),
  );
  for (const d of descriptions) {
    const offsets = await guarded("source", `read the offsets of group ${d.groupId}`, () => admins.source.listConsumerGroupOffsets(d.groupId), []);
    const topicsRead = [...new Set(offsets.map((o) => o.topic))].sort();
    const onTarget = targetDescriptions.get(d.groupId);
    const plan: GroupPlan = {
      group: d.groupId,
      state: d.state,
      protocol: protocolName(d.type),
      assignor: d.partitionAssignor,
      members: d.members.length,
      linkedTopics: topicsRead.filter((t) => linkedTopics.has(t)),
      otherTopics: topicsRead.filter((t) => !linkedTopics.has(t)),
      handoff: protocolName(d.type) === "consumer" || d.partitionAssignor === "stream" ? "drain" : "fence",
      target: onTarget ? { state: onTarget.state, members: onTarget.members.length } : null,
    };
    groups.push(plan);
    groupProblems(plan, problem);
  }
  // readers of linked topics that `groups` leaves out
  const others = sourceGroups.filter((g) => !chosen.selected.includes(g.groupId)).slice(0, MAX_GROUPS_SCANNED);
  for (const g of others) {
    const offsets = await guarded("source", `read the offsets of group ${g.groupId}`, () => admins.source.listConsumerGroupOffsets(g.groupId), []);
    const read = [...new Set(offsets.map((o) => o.topic).filter((t) => linkedTopics.has(t)))].sort();
    if (read.length && !selects(config.groups, g.groupId)) {
      problem("warning", `group ${g.groupId}`, `reads linked topic${read.length > 1 ? "s" : ""} ${read.join(", ")} but is not in groups: its offsets will not be handed off`);
    }
  }

  // where the groups klink does not hand off would resume on the target, next to what they committed there
  const otherDescriptions = others.length
    ? await guarded("source", "describe consumer groups", () => admins.source.describeConsumerGroups(others.map((g) => g.groupId)), [] as GroupDescription[])
    : [];
  const groupOffsets = {
    synced: config.link.groupOffsetSync,
    groups: await guarded("source", "read the committed offsets of consumer groups", () => groupOffsetsPlan(admins, store, config.groups, linkedTopics, [...descriptions, ...otherDescriptions]), []),
  };

  const promoted = [...linked].filter(([, state]) => targetIsPrimary(state)).map(([t]) => t);
  const acls = await aclPlan(config, admins, store, selected.filter((t) => !promoted.includes(t)), promoted, sourceGroups.map((g) => g.groupId), problem);

  return {
    file: config.file,
    clusters: {
      source: { bootstrap: config.clusters.source.bootstrap.join(","), clusterId: sourceCluster.clusterId, brokers: sourceCluster.nodes.length },
      target: { bootstrap: config.clusters.target.bootstrap.join(","), clusterId: targetCluster.clusterId, brokers: targetCluster.nodes.length },
    },
    topics,
    groups,
    groupOffsets,
    ...(acls ? { acls } : {}),
    problems,
  };
}

function configValue(configs: ConfigEntry[], name: string): string | null {
  return configs.find((c) => c.name === name)?.value ?? null;
}

function protocolName(type: string): string {
  const t = type.toLowerCase();
  return t === "classic" || t === "consumer" ? t : t === "unknown" ? "classic" : t;
}

type Report = (severity: Problem["severity"], subject: string, message: string) => void;

function topicProblems(plan: TopicPlan, sourceConfigs: ConfigEntry[], targetConfigs: ConfigEntry[], offsets: string, problem: Report) {
  const subject = `topic ${plan.topic}`;
  if (plan.target && plan.target.partitions !== plan.partitions) {
    problem(
      "error",
      subject,
      `partition count mismatch: the source has ${plan.partitions}, the target ${plan.target.partitions}; ` +
        (plan.target.partitions < plan.partitions
          ? `add partitions on the target (kafka-topics --alter --partitions ${plan.partitions}) or delete the target topic`
          : "delete the target topic (partitions cannot be removed); records would land in other partitions otherwise"),
    );
  }
  const foreign = plan.partitionPlans.filter((p) => p.target === "foreign data");
  if (foreign.length) {
    const which = `partition${foreign.length > 1 ? "s" : ""} ${foreign.map((p) => p.partition).join(", ")}`;
    const fix = "delete the records (kafka-delete-records), delete the topic, or exclude it";
    if (foreign.some((p) => p.mode === null)) problem("error", subject, `the target topic already holds data klink did not write (${which}): with offsets: exact klink refuses to write into it; ${fix}`);
    else problem("warning", subject, `the target topic already holds data klink did not write (${which}): klink copies after it in translate mode, unless it is an exact copy of the source; for identical offsets ${fix}`);
  }
  const produced = plan.partitionPlans.filter((p) => p.target === "producer data" && p.mode !== null);
  if (produced.length) {
    problem("warning", subject, `producers wrote to the target topic klink created before it copied anything there (partition${produced.length > 1 ? "s" : ""} ${produced.map((p) => p.partition).join(", ")}): run routes those records to the source (dual write) and copies the source's after them, in translate mode`);
  }
  const refused = plan.partitionPlans.filter((p) => p.mode === null && p.target !== "foreign data");
  if (refused.length) problem("error", subject, `offsets: ${offsets}, but partition${refused.length > 1 ? "s" : ""} ${refused.map((p) => p.partition).join(", ")} cannot keep exact offsets (${refused[0]!.why.replace(/: exact offsets.*$/, "")}); use offsets: auto or translate for it`);
  if (plan.cleanupPolicy.includes("compact")) {
    problem(
      "warning",
      subject,
      `compacted (cleanup.policy=${plan.cleanupPolicy}): records removed by compaction leave holes that klink fills with filler records ` +
        "(key klink.filler) in transactions that abort: invisible to read_committed consumers, removed by the target's own cleaner",
    );
  }
  if (configValue(sourceConfigs, "message.timestamp.type") === "LogAppendTime") {
    problem("warning", subject, "the source stamps records on arrival (message.timestamp.type=LogAppendTime): on the target they keep those timestamps, as CreateTime");
  }
  if (configValue(targetConfigs, "message.timestamp.type") === "LogAppendTime") {
    problem("error", subject, "the target topic has message.timestamp.type=LogAppendTime: the target would restamp every copied record; set it to CreateTime");
  }
}

function groupProblems(g: GroupPlan, problem: Report) {
  const subject = `group ${g.group}`;
  if (g.protocol === "consumer") {
    problem("warning", subject, "uses the consumer group protocol (KIP-848): klink cannot hold it on the target; move it by draining: stop every member on the source, then start them on the target");
  } else if (g.assignor === "stream") {
    problem("warning", subject, "is a Kafka Streams application: its assignor cannot take an empty assignment, so klink cannot hold it; move it by draining");
  }
  if (g.linkedTopics.length === 0) problem("warning", subject, "has no committed offsets on linked topics: nothing to hand off yet");
  if (g.otherTopics.length) problem("warning", subject, `also commits offsets on topics that are not linked (${g.otherTopics.join(", ")}): those stay on the source`);
  if (g.target && g.target.members > 0) problem("warning", subject, `already has ${g.target.members} member(s) on the target (${g.target.state}): they read there before the handoff`);
}
