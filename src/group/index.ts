/**
 * klink's own client of Kafka's classic consumer-group protocol, for the read fence (fence.ts):
 * librdkafka cannot act as a group leader that computes assignments of its own.
 */
export { GroupClient } from "./client.ts";
export { Connection } from "./connection.ts";
export { describeGroup, type GroupDescription, type GroupMemberDescription } from "./describe.ts";
export { checkCoordinator, ConnectionError, Err, errorName, GroupProtocolError } from "./errors.ts";
export { GroupFence, NotLeaderError, type FenceEvent, type FenceState, type FencedMember, type GroupFenceOptions } from "./fence.ts";
export { fetchOffsets, type CommittedOffset } from "./offsets.ts";
export { decodeAssignment, decodeSubscription, EMPTY_ASSIGNMENT, encodeAssignment, encodeSubscription, type Assignment, type Subscription } from "./consumer-protocol.ts";
export { parseSettings, SettingsError, type GroupClientSettings } from "./settings.ts";
