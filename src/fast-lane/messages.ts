/**
 * The Kafka APIs the fast lane speaks besides the group client's (src/group/messages.ts), in the
 * same form: Metadata (leaders), InitProducerId (klink's idempotent producer on the target),
 * Fetch (record sets as bytes) and Produce (one batch per partition per request, as Produce v3+
 * requires). Ranges start where Kafka 4.0 still answers (KIP-896) and end before topic ids
 * replace topic names (Metadata v10, Fetch v13, Produce v13).
 */
import { field as f } from "../group/schema.ts";
import { api } from "../group/messages.ts";

// --- Metadata (3)

export interface MetadataResponse {
  brokers: Array<{ nodeId: number; host: string; port: number }>;
  topics: Array<{
    errorCode: number;
    name: string;
    partitions: Array<{ errorCode: number; partitionIndex: number; leaderId: number; leaderEpoch?: number }>;
  }>;
}
export const Metadata = api<{ topics: Array<{ name: string }>; allowAutoTopicCreation: boolean; includeTopicAuthorizedOperations?: boolean; includeClusterAuthorizedOperations?: boolean }, MetadataResponse>({
  key: 3,
  name: "Metadata",
  minVersion: 4,
  maxVersion: 9,
  flexibleFrom: 9,
  request: [
    f("topics", [f("name", "string", "0+")], "0+", "1+"),
    f("allowAutoTopicCreation", "bool", "4+"),
    f("includeClusterAuthorizedOperations", "bool", "8-10"),
    f("includeTopicAuthorizedOperations", "bool", "8+"),
  ],
  response: [
    f("throttleTimeMs", "int32", "3+"),
    f("brokers", [f("nodeId", "int32", "0+"), f("host", "string", "0+"), f("port", "int32", "0+"), f("rack", "string", "1+", "1+")], "0+"),
    f("clusterId", "string", "2+", "2+"),
    f("controllerId", "int32", "1+"),
    f(
      "topics",
      [
        f("errorCode", "int16", "0+"),
        f("name", "string", "0+"),
        f("isInternal", "bool", "1+"),
        f(
          "partitions",
          [
            f("errorCode", "int16", "0+"),
            f("partitionIndex", "int32", "0+"),
            f("leaderId", "int32", "0+"),
            f("leaderEpoch", "int32", "7+"),
            f("replicaNodes", "[]int32", "0+"),
            f("isrNodes", "[]int32", "0+"),
            f("offlineReplicas", "[]int32", "5+"),
          ],
          "0+",
        ),
        f("topicAuthorizedOperations", "int32", "8+"),
      ],
      "0+",
    ),
    f("clusterAuthorizedOperations", "int32", "8-10"),
  ],
});

// --- InitProducerId (22): an idempotent producer (no transactional id) on the target.

export const InitProducerId = api<
  { transactionalId: string | null; transactionTimeoutMs: number; producerId?: number; producerEpoch?: number },
  { errorCode: number; producerId: number; producerEpoch: number }
>({
  key: 22,
  name: "InitProducerId",
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 2,
  request: [
    f("transactionalId", "string", "0+", "0+"),
    f("transactionTimeoutMs", "int32", "0+"),
    f("producerId", "int64", "3+"),
    f("producerEpoch", "int16", "3+"),
  ],
  response: [f("throttleTimeMs", "int32", "0+"), f("errorCode", "int16", "0+"), f("producerId", "int64", "0+"), f("producerEpoch", "int16", "0+")],
});

// --- Fetch (1)

export interface FetchRequest {
  replicaId: number;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  isolationLevel: number;
  sessionId: number;
  sessionEpoch: number;
  topics: Array<{ topic: string; partitions: Array<{ partition: number; currentLeaderEpoch: number; fetchOffset: number; lastFetchedEpoch: number; logStartOffset: number; partitionMaxBytes: number }> }>;
  forgottenTopicsData: Array<{ topic: string; partitions: number[] }>;
  rackId: string;
}
export interface FetchedPartition {
  partitionIndex: number;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  abortedTransactions: Array<{ producerId: number; firstOffset: number }> | null;
  records: Buffer | null;
}
export const Fetch = api<FetchRequest, { errorCode?: number; responses: Array<{ topic: string; partitions: FetchedPartition[] }> }>({
  key: 1,
  name: "Fetch",
  minVersion: 4,
  maxVersion: 12,
  flexibleFrom: 12,
  request: [
    f("replicaId", "int32", "0+"),
    f("maxWaitMs", "int32", "0+"),
    f("minBytes", "int32", "0+"),
    f("maxBytes", "int32", "3+"),
    f("isolationLevel", "int8", "4+"),
    f("sessionId", "int32", "7+"),
    f("sessionEpoch", "int32", "7+"),
    f(
      "topics",
      [
        f("topic", "string", "0+"),
        f(
          "partitions",
          [
            f("partition", "int32", "0+"),
            f("currentLeaderEpoch", "int32", "9+"),
            f("fetchOffset", "int64", "0+"),
            f("lastFetchedEpoch", "int32", "12+"),
            f("logStartOffset", "int64", "5+"),
            f("partitionMaxBytes", "int32", "0+"),
          ],
          "0+",
        ),
      ],
      "0+",
    ),
    f("forgottenTopicsData", [f("topic", "string", "7+"), f("partitions", "[]int32", "7+")], "7+"),
    f("rackId", "string", "11+"),
  ],
  response: [
    f("throttleTimeMs", "int32", "1+"),
    f("errorCode", "int16", "7+"),
    f("sessionId", "int32", "7+"),
    f(
      "responses",
      [
        f("topic", "string", "0+"),
        f(
          "partitions",
          [
            f("partitionIndex", "int32", "0+"),
            f("errorCode", "int16", "0+"),
            f("highWatermark", "int64", "0+"),
            f("lastStableOffset", "int64", "4+"),
            f("logStartOffset", "int64", "5+"),
            f("abortedTransactions", [f("producerId", "int64", "4+"), f("firstOffset", "int64", "4+")], "4+", "4+"),
            f("preferredReadReplica", "int32", "11+"),
            f("records", "bytes", "0+", "0+"),
          ],
          "0+",
        ),
      ],
      "0+",
    ),
  ],
});

// --- Produce (0)

export interface ProducedPartition {
  index: number;
  errorCode: number;
  baseOffset: number;
  logStartOffset?: number;
  recordErrors?: Array<{ batchIndex: number; batchIndexErrorMessage: string | null }>;
  errorMessage?: string | null;
}
export const Produce = api<
  { transactionalId: string | null; acks: number; timeoutMs: number; topicData: Array<{ name: string; partitionData: Array<{ index: number; records: Uint8Array }> }> },
  { responses: Array<{ name: string; partitionResponses: ProducedPartition[] }> }
>({
  key: 0,
  name: "Produce",
  minVersion: 3,
  maxVersion: 9,
  flexibleFrom: 9,
  request: [
    f("transactionalId", "string", "3+", "3+"),
    f("acks", "int16", "0+"),
    f("timeoutMs", "int32", "0+"),
    f("topicData", [f("name", "string", "0+"), f("partitionData", [f("index", "int32", "0+"), f("records", "bytes", "0+", "0+")], "0+")], "0+"),
  ],
  response: [
    f(
      "responses",
      [
        f("name", "string", "0+"),
        f(
          "partitionResponses",
          [
            f("index", "int32", "0+"),
            f("errorCode", "int16", "0+"),
            f("baseOffset", "int64", "0+"),
            f("logAppendTimeMs", "int64", "2+"),
            f("logStartOffset", "int64", "5+"),
            f("recordErrors", [f("batchIndex", "int32", "8+"), f("batchIndexErrorMessage", "string", "8+", "8+")], "8+"),
            f("errorMessage", "string", "8+", "8+"),
          ],
          "0+",
        ),
      ],
      "0+",
    ),
    f("throttleTimeMs", "int32", "1+"),
  ],
});
