/**
 * The Kafka APIs this client speaks, each described once as data (from Kafka's message
 * definitions, clients/src/main/resources/common/message/*.json) with the version range klink
 * implements. A connection uses the highest version in that range that the broker supports
 * (ApiVersions). The ranges start where the features klink needs exist (static membership,
 * KIP-394 member ids) and stay above what Kafka 4.0 removed (KIP-896); they end before versions
 * that change the layout in ways klink does not need (OffsetCommit/OffsetFetch v10: topic ids).
 *
 * The TypeScript types name only the fields klink reads or writes; fields that exist only in
 * some versions are optional in responses.
 */
import { field as f, type Field } from "./schema.ts";

export interface Api<Req, Res> {
  key: number;
  name: string;
  minVersion: number;
  maxVersion: number;
  /** First flexible version (KIP-482): request header v2, response header v1, compact encodings. */
  flexibleFrom: number;
  request: Field[];
  response: Field[];
  /** Type carriers only: never set. */
  readonly _req?: Req;
  readonly _res?: Res;
}

export function api<Req, Res>(a: Omit<Api<Req, Res>, "_req" | "_res">): Api<Req, Res> {
  return a;
}

// --- ApiVersions (18): sent first on every connection, before SASL.

export interface ApiVersionsRequest {
  clientSoftwareName: string;
  clientSoftwareVersion: string;
}
export interface ApiVersionsResponse {
  errorCode: number;
  apiKeys: Array<{ apiKey: number; minVersion: number; maxVersion: number }>;
}
export const ApiVersions = api<ApiVersionsRequest, ApiVersionsResponse>({
  key: 18,
  name: "ApiVersions",
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 3,
  request: [f("clientSoftwareName", "string", "3+"), f("clientSoftwareVersion", "string", "3+")],
  response: [
    f("errorCode", "int16", "0+"),
    f("apiKeys", [f("apiKey", "int16", "0+"), f("minVersion", "int16", "0+"), f("maxVersion", "int16", "0+")], "0+"),
    f("throttleTimeMs", "int32", "1+"),
  ],
});

// --- SASL (17, 36)

export const SaslHandshake = api<{ mechanism: string }, { errorCode: number; mechanisms: string[] }>({
  key: 17,
  name: "SaslHandshake",
  minVersion: 1, // v0 (raw SASL tokens without SaslAuthenticate) is gone in Kafka 4.0
  maxVersion: 1,
  flexibleFrom: Infinity,
  request: [f("mechanism", "string", "0+")],
  response: [f("errorCode", "int16", "0+"), f("mechanisms", "[]string", "0+")],
});

export interface SaslAuthenticateResponse {
  errorCode: number;
  errorMessage: string | null;
  authBytes: Buffer;
  /** KIP-368: the broker closes the session after this long (0: never). v1+. */
  sessionLifetimeMs?: number;
}
export const SaslAuthenticate = api<{ authBytes: Uint8Array }, SaslAuthenticateResponse>({
  key: 36,
  name: "SaslAuthenticate",
  minVersion: 1,
  maxVersion: 2,
  flexibleFrom: 2,
  request: [f("authBytes", "bytes", "0+")],
  response: [
    f("errorCode", "int16", "0+"),
    f("errorMessage", "string", "0+", "0+"),
    f("authBytes", "bytes", "0+"),
    f("sessionLifetimeMs", "int64", "1+"),
  ],
});

// --- FindCoordinator (10): v1-v3 ask for one key, v4+ for a batch.

export interface FindCoordinatorRequest {
  key: string;
  keyType: number; // 0 = group
  coordinatorKeys: string[];
}
export interface Coordinator {
  key?: string;
  nodeId: number;
  host: string;
  port: number;
  errorCode: number;
  errorMessage: string | null;
}
export interface FindCoordinatorResponse extends Partial<Coordinator> {
  coordinators?: Coordinator[];
}
export const FindCoordinator = api<FindCoordinatorRequest, FindCoordinatorResponse>({
  key: 10,
  name: "FindCoordinator",
  minVersion: 1,
  maxVersion: 6,
  flexibleFrom: 3,
  request: [f("key", "string", "0-3"), f("keyType", "int8", "1+"), f("coordinatorKeys", "[]string", "4+")],
  response: [
    f("throttleTimeMs", "int32", "1+"),
    f("errorCode", "int16", "0-3"),
    f("errorMessage", "string", "1-3", "1-3"),
    f("nodeId", "int32", "0-3"),
    f("host", "string", "0-3"),
    f("port", "int32", "0-3"),
    f(
      "coordinators",
      [
        f("key", "string", "4+"),
        f("nodeId", "int32", "4+"),
        f("host", "string", "4+"),
        f("port", "int32", "4+"),
        f("errorCode", "int16", "4+"),
        f("errorMessage", "string", "4+", "4+"),
      ],
      "4+",
    ),
  ],
});

// --- JoinGroup (11)

export interface JoinGroupRequest {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: Array<{ name: string; metadata: Uint8Array }>;
  reason?: string | null;
}
export interface JoinGroupMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Buffer;
}
export interface JoinGroupResponse {
  errorCode: number;
  generationId: number;
  protocolType?: string | null;
  protocolName: string | null;
  leader: string;
  skipAssignment?: boolean;
  memberId: string;
  members: JoinGroupMember[];
}
export const JoinGroup = api<JoinGroupRequest, JoinGroupResponse>({
  key: 11,
  name: "JoinGroup",
  minVersion: 5, // v5: group.instance.id (static membership); v4: MEMBER_ID_REQUIRED (KIP-394)
  maxVersion: 9,
  flexibleFrom: 6,
  request: [
    f("groupId", "string", "0+"),
    f("sessionTimeoutMs", "int32", "0+"),
    f("rebalanceTimeoutMs", "int32", "1+"),
    f("memberId", "string", "0+"),
    f("groupInstanceId", "string", "5+", "5+"),
    f("protocolType", "string", "0+"),
    f("protocols", [f("name", "string", "0+"), f("metadata", "bytes", "0+")], "0+"),
    f("reason", "string", "8+", "8+"),
  ],
  response: [
    f("throttleTimeMs", "int32", "2+"),
    f("errorCode", "int16", "0+"),
    f("generationId", "int32", "0+"),
    f("protocolType", "string", "7+", "7+"),
    f("protocolName", "string", "0+", "7+"),
    f("leader", "string", "0+"),
    f("skipAssignment", "bool", "9+"),
    f("memberId", "string", "0+"),
    f("members", [f("memberId", "string", "0+"), f("groupInstanceId", "string", "5+", "5+"), f("metadata", "bytes", "0+")], "0+"),
  ],
});

// --- SyncGroup (14)

export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: Array<{ memberId: string; assignment: Uint8Array }>;
}
export interface SyncGroupResponse {
  errorCode: number;
  protocolType?: string | null;
  protocolName?: string | null;
  assignment: Buffer;
}
export const SyncGroup = api<SyncGroupRequest, SyncGroupResponse>({
  key: 14,
  name: "SyncGroup",
  minVersion: 3,
  maxVersion: 5,
  flexibleFrom: 4,
  request: [
    f("groupId", "string", "0+"),
    f("generationId", "int32", "0+"),
    f("memberId", "string", "0+"),
    f("groupInstanceId", "string", "3+", "3+"),
    f("protocolType", "string", "5+", "5+"),
    f("protocolName", "string", "5+", "5+"),
    f("assignments", [f("memberId", "string", "0+"), f("assignment", "bytes", "0+")], "0+"),
  ],
  response: [
    f("throttleTimeMs", "int32", "1+"),
    f("errorCode", "int16", "0+"),
    f("protocolType", "string", "5+", "5+"),
    f("protocolName", "string", "5+", "5+"),
    f("assignment", "bytes", "0+"),
  ],
});

// --- Heartbeat (12)

export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}
export const Heartbeat = api<HeartbeatRequest, { errorCode: number }>({
  key: 12,
  name: "Heartbeat",
  minVersion: 3,
  maxVersion: 4,
  flexibleFrom: 4,
  request: [f("groupId", "string", "0+"), f("generationId", "int32", "0+"), f("memberId", "string", "0+"), f("groupInstanceId", "string", "3+", "3+")],
  response: [f("throttleTimeMs", "int32", "1+"), f("errorCode", "int16", "0+")],
});

// --- LeaveGroup (13): v3+ leave as a batch of member identities.

export interface LeaveGroupRequest {
  groupId: string;
  members: Array<{ memberId: string; groupInstanceId: string | null; reason?: string | null }>;
}
export interface LeaveGroupResponse {
  errorCode: number;
  members: Array<{ memberId: string; groupInstanceId: string | null; errorCode: number }>;
}
export const LeaveGroup = api<LeaveGroupRequest, LeaveGroupResponse>({
  key: 13,
  name: "LeaveGroup",
  minVersion: 3,
  maxVersion: 5,
  flexibleFrom: 4,
  request: [
    f("groupId", "string", "0+"),
    f("members", [f("memberId", "string", "3+"), f("groupInstanceId", "string", "3+", "3+"), f("reason", "string", "5+", "5+")], "3+"),
  ],
  response: [
    f("throttleTimeMs", "int32", "1+"),
    f("errorCode", "int16", "0+"),
    f("members", [f("memberId", "string", "3+"), f("groupInstanceId", "string", "3+", "3+"), f("errorCode", "int16", "3+")], "3+"),
  ],
});

// --- OffsetCommit (8)

export interface OffsetCommitRequest {
  groupId: string;
  generationIdOrMemberEpoch: number;
  memberId: string;
  groupInstanceId: string | null;
  topics: Array<{
    name: string;
    partitions: Array<{ partitionIndex: number; committedOffset: number; committedLeaderEpoch: number; committedMetadata: string | null }>;
  }>;
}
export interface OffsetCommitResponse {
  topics: Array<{ name: string; partitions: Array<{ partitionIndex: number; errorCode: number }> }>;
}
export const OffsetCommit = api<OffsetCommitRequest, OffsetCommitResponse>({
  key: 8,
  name: "OffsetCommit",
  minVersion: 7, // v7: group.instance.id
  maxVersion: 9, // v10 names topics by id
  flexibleFrom: 8,
  request: [
    f("groupId", "string", "0+"),
    f("generationIdOrMemberEpoch", "int32", "1+"),
    f("memberId", "string", "1+"),
    f("groupInstanceId", "string", "7+", "7+"),
    f(
      "topics",
      [
        f("name", "string", "0+"),
        f(
          "partitions",
          [
            f("partitionIndex", "int32", "0+"),
            f("committedOffset", "int64", "0+"),
            f("committedLeaderEpoch", "int32", "6+"),
            f("committedMetadata", "string", "0+", "0+"),
          ],
          "0+",
        ),
      ],
      "0+",
    ),
  ],
  response: [
    f("throttleTimeMs", "int32", "3+"),
    f("topics", [f("name", "string", "0+"), f("partitions", [f("partitionIndex", "int32", "0+"), f("errorCode", "int16", "0+")], "0+")], "0+"),
  ],
});

// --- OffsetFetch (9): one group per request (v8+ batch groups: not needed).

export interface OffsetFetchRequest {
  groupId: string;
  topics: Array<{ name: string; partitionIndexes: number[] }> | null;
  requireStable: boolean;
}
export interface OffsetFetchResponse {
  errorCode: number;
  topics: Array<{
    name: string;
    partitions: Array<{ partitionIndex: number; committedOffset: number; committedLeaderEpoch: number; metadata: string | null; errorCode: number }>;
  }>;
}
export const OffsetFetch = api<OffsetFetchRequest, OffsetFetchResponse>({
  key: 9,
  name: "OffsetFetch",
  minVersion: 6,
  maxVersion: 7,
  flexibleFrom: 6,
  request: [
    f("groupId", "string", "0-7"),
    f("topics", [f("name", "string", "0-7"), f("partitionIndexes", "[]int32", "0-7")], "0-7", "2-7"),
    f("requireStable", "bool", "7+"),
  ],
  response: [
    f("throttleTimeMs", "int32", "3+"),
    f(
      "topics",
      [
        f("name", "string", "0-7"),
        f(
          "partitions",
          [
            f("partitionIndex", "int32", "0-7"),
            f("committedOffset", "int64", "0-7"),
            f("committedLeaderEpoch", "int32", "5-7"),
            f("metadata", "string", "0-7", "0-7"),
            f("errorCode", "int16", "0-7"),
          ],
          "0-7",
        ),
      ],
      "0-7",
    ),
    f("errorCode", "int16", "2-7"),
  ],
});

// --- DescribeGroups (15)

export interface DescribedGroupMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  memberMetadata: Buffer;
  memberAssignment: Buffer;
}
export interface DescribedGroup {
  errorCode: number;
  errorMessage?: string | null;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: DescribedGroupMember[];
}
export const DescribeGroups = api<{ groups: string[]; includeAuthorizedOperations: boolean }, { groups: DescribedGroup[] }>({
  key: 15,
  name: "DescribeGroups",
  minVersion: 4, // v4: members' group.instance.id
  maxVersion: 6,
  flexibleFrom: 5,
  request: [f("groups", "[]string", "0+"), f("includeAuthorizedOperations", "bool", "3+")],
  response: [
    f("throttleTimeMs", "int32", "1+"),
    f(
      "groups",
      [
        f("errorCode", "int16", "0+"),
        f("errorMessage", "string", "6+", "6+"),
        f("groupId", "string", "0+"),
        f("groupState", "string", "0+"),
        f("protocolType", "string", "0+"),
        f("protocolData", "string", "0+"),
        f(
          "members",
          [
            f("memberId", "string", "0+"),
            f("groupInstanceId", "string", "4+", "4+"),
            f("clientId", "string", "0+"),
            f("clientHost", "string", "0+"),
            f("memberMetadata", "bytes", "0+"),
            f("memberAssignment", "bytes", "0+"),
          ],
          "0+",
        ),
        f("authorizedOperations", "int32", "3+"),
      ],
      "0+",
    ),
  ],
});

// --- DescribeTransactions (65, KIP-664): is a transaction open for a transactional id, and on
// which partitions (its abort marker will land there when the id's producer is initialised).

export interface DescribeTransactionsResponse {
  transactionStates: Array<{
    errorCode: number;
    transactionalId: string;
    /** Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Dead, PrepareEpochFence */
    transactionState: string;
    producerId: number;
    topics: Array<{ topic: string; partitions: number[] }>;
  }>;
}
export const DescribeTransactions = api<{ transactionalIds: string[] }, DescribeTransactionsResponse>({
  key: 65,
  name: "DescribeTransactions",
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: 0,
  request: [f("transactionalIds", "[]string", "0+")],
  response: [
    f("throttleTimeMs", "int32", "0+"),
    f(
      "transactionStates",
      [
        f("errorCode", "int16", "0+"),
        f("transactionalId", "string", "0+"),
        f("transactionState", "string", "0+"),
        f("transactionTimeoutMs", "int32", "0+"),
        f("transactionStartTimeMs", "int64", "0+"),
        f("producerId", "int64", "0+"),
        f("producerEpoch", "int16", "0+"),
        f("topics", [f("topic", "string", "0+"), f("partitions", "[]int32", "0+")], "0+"),
      ],
      "0+",
    ),
  ],
});
