/**
 * Kafka's error codes that a group client meets (names as in Kafka's Errors.java), and the two
 * errors this client throws: GroupProtocolError (a broker answered with an error code) and
 * ConnectionError (the connection itself failed: refused, TLS, SASL, timeout, closed).
 */

export const Err = {
  UNKNOWN_SERVER_ERROR: -1,
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  MESSAGE_TOO_LARGE: 10,
  NETWORK_EXCEPTION: 13,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  RECORD_LIST_TOO_LARGE: 18,
  NOT_ENOUGH_REPLICAS: 19,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 20,
  INVALID_COMMIT_OFFSET_SIZE: 28,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  INVALID_TIMESTAMP: 32,
  UNSUPPORTED_SASL_MECHANISM: 33,
  ILLEGAL_SASL_STATE: 34,
  UNSUPPORTED_VERSION: 35,
  INVALID_REQUEST: 42,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  KAFKA_STORAGE_ERROR: 56,
  SASL_AUTHENTICATION_FAILED: 58,
  UNKNOWN_PRODUCER_ID: 59,
  GROUP_ID_NOT_FOUND: 69,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  MEMBER_ID_REQUIRED: 79,
  GROUP_MAX_SIZE_REACHED: 81,
  FENCED_INSTANCE_ID: 82,
  INVALID_RECORD: 87,
  UNSTABLE_OFFSET_COMMIT: 88,
  FENCED_MEMBER_EPOCH: 110,
  UNRELEASED_INSTANCE_ID: 111,
  UNSUPPORTED_ASSIGNOR: 112,
  STALE_MEMBER_EPOCH: 113,
} as const;

const names = new Map<number, string>(Object.entries(Err).map(([name, code]) => [code, name]));

export function errorName(code: number): string {
  return names.get(code) ?? `error code ${code}`;
}

/** A broker answered `api` with a non-zero error code. */
export class GroupProtocolError extends Error {
  override name = "GroupProtocolError";
  readonly codeName: string;

  constructor(
    readonly code: number,
    readonly api: string,
    context: string,
    detail?: string | null,
  ) {
    super(`${context}: ${api} failed with ${errorName(code)}${detail ? `: ${detail}` : ""}`);
    this.codeName = errorName(code);
  }
}

/** The connection to a broker failed or was closed; every request in flight on it fails with this. */
export class ConnectionError extends Error {
  override name = "ConnectionError";

  constructor(
    readonly broker: string,
    message: string,
    /** True when retrying cannot help: credentials refused, certificate refused, unsupported settings. */
    readonly fatal = false,
  ) {
    super(`broker ${broker}: ${message}`);
  }
}

/** Errors after which asking the coordinator again (after finding it again) can succeed. */
export function isCoordinatorError(code: number): boolean {
  return code === Err.COORDINATOR_NOT_AVAILABLE || code === Err.NOT_COORDINATOR || code === Err.COORDINATOR_LOAD_IN_PROGRESS;
}

/** Coordinator errors become throws, so `GroupClient.coordinated` finds the coordinator again and retries. */
export function checkCoordinator<T extends { errorCode: number }>(r: T, api: string, groupId: string): T {
  if (isCoordinatorError(r.errorCode)) throw new GroupProtocolError(r.errorCode, api, `group ${groupId}`);
  return r;
}
