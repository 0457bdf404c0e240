/** What `klink plan` found and decided; `--json` prints exactly this. */
import type { TopicCreation } from "../link/topic-create.ts";
import type { ConfigDifference } from "../link/config-sync.ts";
import type { AclBinding } from "../rdkafka/acls.ts";

export interface Plan {
  file: string;
  clusters: { source: ClusterSummary; target: ClusterSummary };
  topics: TopicPlan[];
  groups: GroupPlan[];
  /** ACL sync (link.aclSync); absent when it is off. */
  acls?: AclPlan;
  /** Groups klink does not hand off that read linked topics: their offsets on the target. */
  groupOffsets: { synced: boolean; groups: GroupOffsetsPlan[] };
  problems: Problem[];
}

export interface AclPlan {
  deletions: "keep" | "mirror";
  /** The source's bindings that concern the link (principals renamed) that the target lacks: `klink run` creates them. */
  create: AclBinding[];
  /** Bindings on the target that concern the link and the source does not have, and what run does with each. */
  onlyOnTarget: Array<{ binding: AclBinding; run: "removes" | "keeps"; why: string }>;
  /** Source bindings klink cannot copy (resource types or operations librdkafka cannot express). */
  unsupported: AclBinding[];
}

export interface ClusterSummary {
  bootstrap: string;
  clusterId: string | null;
  brokers: number;
  /** The source's Kafka release as its API versions date it ("Kafka 2.8"); absent for the target. */
  kafka?: string;
}

/** "producer data": records producers wrote to a target topic klink created, before it copied anything there. */
export type TargetState = "missing" | "empty" | "linked" | "foreign data" | "producer data";

export interface TopicPlan {
  topic: string;
  partitions: number;
  /** The target topic: null when it does not exist (then `create` says how it will). */
  target: { partitions: number; linkedState: string | null } | null;
  create: CreatePlan | null;
  /** The existing target topic's configs that differ from the source's (link.configSync); null: no target topic yet. */
  configDrift: ConfigDriftPlan | null;
  cleanupPolicy: string;
  partitionPlans: PartitionPlan[];
}

export interface ConfigDriftPlan {
  /** Whether `klink run` syncs these changes; `why` not, when not. */
  synced: boolean;
  why: string | null;
  changes: ConfigDifference[];
}

/** How a missing target topic will be created: what `klink run` creates. */
export type CreatePlan = TopicCreation;

export interface PartitionPlan {
  partition: number;
  sourceLogStart: number;
  sourceLogEnd: number;
  /** The first source offset klink would copy. */
  startOffset: number;
  target: TargetState;
  targetLogStart: number | null;
  targetLogEnd: number | null;
  /** null: klink would not copy this partition (see problems). */
  mode: "exact" | "translate" | null;
  why: string;
}

export interface GroupPlan {
  group: string;
  state: string;
  /** "classic", "consumer" (KIP-848), or what the broker said. */
  protocol: string;
  assignor: string;
  members: number;
  /** Linked topics it has committed offsets on, and other topics. */
  linkedTopics: string[];
  otherTopics: string[];
  /** How it would move: held on the target by klink (fence), or stopped then restarted (drain). */
  handoff: "fence" | "drain";
  target: { state: string; members: number } | null;
}

export interface GroupOffsetsPlan {
  group: string;
  /** Why klink does not hand it off. */
  why: string;
  /** Partitions of linked topics it committed offsets on. */
  partitions: number;
  /** Those where the target lacks its translated offset: `targetOffset` is where it resumes there (null: not copied that far yet), `onTarget` what it committed there. */
  differ: Array<{ topic: string; partition: number; sourceOffset: number; targetOffset: number | null; onTarget: number | null }>;
}

export interface Problem {
  severity: "error" | "warning";
  /** "topic orders", "group billing", "source cluster". */
  subject: string;
  message: string;
}
