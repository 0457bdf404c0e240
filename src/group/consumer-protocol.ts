/**
 * The consumer protocol's embedded encodings (protocol type "consumer"): what a member puts in
 * JoinGroup's metadata (ConsumerProtocolSubscription) and what the leader hands each member
 * through SyncGroup (ConsumerProtocolAssignment). Both are a version (int16) followed by
 * non-flexible fields; a newer version than known is read as the newest known one, as Kafka's
 * own clients do (new versions only append fields).
 */
import { decode, encode, field as f } from "./schema.ts";
import { Reader, Writer } from "./wire.ts";

const topicPartitions = [f("topic", "string", "0+"), f("partitions", "[]int32", "0+")];

const SUBSCRIPTION = [
  f("topics", "[]string", "0+"),
  f("userData", "bytes", "0+", "0+"),
  f("ownedPartitions", topicPartitions, "1+"),
  f("generationId", "int32", "2+"),
  f("rackId", "string", "3+", "3+"),
];
const SUBSCRIPTION_MAX = 3;

const ASSIGNMENT = [f("assignedPartitions", topicPartitions, "0+"), f("userData", "bytes", "0+", "0+")];
const ASSIGNMENT_MAX = 3;

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface Subscription {
  version: number;
  topics: string[];
  userData: Buffer | null;
  /** v1+: what the member holds (cooperative rebalancing). */
  ownedPartitions?: TopicPartitions[];
  /** v2+ */
  generationId?: number;
  /** v3+ */
  rackId?: string | null;
}

export interface Assignment {
  version: number;
  assignedPartitions: TopicPartitions[];
  userData: Buffer | null;
}

/**
 * klink's own subscription: version 1, the group's topics, no user data, no owned partitions.
 * Version 1, not 0: a librdkafka leader running cooperative-sticky reads the owned partitions of
 * every member and crashed (SIGSEGV, librdkafka 2.15) on a version-0 member, which has none
 * (test/group/protocols.test.ts).
 */
export function encodeSubscription(topics: string[]): Buffer {
  const w = new Writer().int16(1);
  encode(SUBSCRIPTION, 1, false, { topics, userData: null, ownedPartitions: [] }, w);
  return Buffer.from(w.finish());
}

export function decodeSubscription(metadata: Buffer): Subscription {
  const r = new Reader(metadata);
  const version = r.int16();
  if (version < 0) throw new Error(`consumer protocol subscription with version ${version}`);
  return { version, ...decode(SUBSCRIPTION, Math.min(version, SUBSCRIPTION_MAX), false, r) } as Subscription;
}

/**
 * The read fence's assignment: version 0, no partitions, null user data (10 bytes). A zero-length
 * assignment would be simpler but the Java consumer throws on it at every poll.
 */
export const EMPTY_ASSIGNMENT: Buffer = encodeAssignment([]);

export function encodeAssignment(assignedPartitions: TopicPartitions[]): Buffer {
  const w = new Writer().int16(0);
  encode(ASSIGNMENT, 0, false, { assignedPartitions, userData: null }, w);
  return Buffer.from(w.finish());
}

export function decodeAssignment(bytes: Buffer): Assignment {
  const r = new Reader(bytes);
  const version = r.int16();
  if (version < 0) throw new Error(`consumer protocol assignment with version ${version}`);
  return { version, ...decode(ASSIGNMENT, Math.min(version, ASSIGNMENT_MAX), false, r) } as Assignment;
}
