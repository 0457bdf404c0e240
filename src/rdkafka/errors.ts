/**
 * Every librdkafka error becomes a KafkaError carrying librdkafka's code and name
 * (e.g. -185 `_TIMED_OUT`, 3 `UNKNOWN_TOPIC_OR_PART`). Negative codes are client-side,
 * positive ones come from the broker.
 */
import { rdkafka } from "./library.ts";

export const ErrorCode = {
  NO_ERROR: 0,
  BAD_MSG: -199,
  DESTROY: -197,
  FAIL: -196,
  TRANSPORT: -195,
  ALL_BROKERS_DOWN: -187,
  PARTITION_EOF: -191,
  UNKNOWN_PARTITION: -190,
  TIMED_OUT: -185,
  MSG_TIMED_OUT: -192,
  QUEUE_FULL: -184,
  UNKNOWN_TOPIC: -188,
  STATE: -172,
  INVALID_ARG: -186,
  NOENT: -156,
  FATAL: -150,
  OFFSET_OUT_OF_RANGE: 1,
  UNKNOWN_TOPIC_OR_PART: 3,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_FOR_PARTITION: 6,
  REQUEST_TIMED_OUT: 7,
  MSG_SIZE_TOO_LARGE: 10,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  TOPIC_ALREADY_EXISTS: 36,
  POLICY_VIOLATION: 44,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  SASL_AUTHENTICATION_FAILED: 58,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  OFFSET_NOT_AVAILABLE: 78,
} as const;

/**
 * A partition's leader is moving (a broker restarting, a leader election): asking again after the
 * client's metadata is refreshed answers. FENCED/UNKNOWN_LEADER_EPOCH come from a client and a
 * broker that disagree on the leader epoch for a while after a restart.
 */
export const LEADER_MOVING: ReadonlySet<number> = new Set([
  ErrorCode.LEADER_NOT_AVAILABLE, ErrorCode.NOT_LEADER_FOR_PARTITION, ErrorCode.REQUEST_TIMED_OUT,
  ErrorCode.FENCED_LEADER_EPOCH, ErrorCode.UNKNOWN_LEADER_EPOCH, ErrorCode.OFFSET_NOT_AVAILABLE,
]);

export interface KafkaErrorOptions {
  fatal?: boolean;
  retriable?: boolean;
  txnRequiresAbort?: boolean;
}

export class KafkaError extends Error {
  override name = "KafkaError";
  /** librdkafka's rd_kafka_resp_err_t. */
  readonly code: number;
  /** librdkafka's name for the code, e.g. `_TIMED_OUT` or `TOPIC_ALREADY_EXISTS`. */
  readonly codeName: string;
  readonly fatal: boolean;
  readonly retriable: boolean;
  readonly txnRequiresAbort: boolean;

  constructor(code: number, message: string, opts: KafkaErrorOptions = {}) {
    const codeName = errorName(code);
    super(`${message} (${codeName})`);
    this.code = code;
    this.codeName = codeName;
    this.fatal = opts.fatal ?? false;
    this.retriable = opts.retriable ?? false;
    this.txnRequiresAbort = opts.txnRequiresAbort ?? false;
  }
}

export function errorName(code: number): string {
  return String(rdkafka().rd_kafka_err2name(code));
}

export function errorDescription(code: number): string {
  return String(rdkafka().rd_kafka_err2str(code));
}

/** Throws for a non-zero rd_kafka_resp_err_t. `context` says what was attempted. */
export function checkErr(code: number, context: string): void {
  if (code !== 0) throw new KafkaError(code, `${context}: ${errorDescription(code)}`);
}

/**
 * Converts an `rd_kafka_error_t*` into a KafkaError. Destroys the native error unless
 * `owned` is false (errors borrowed from a result object must not be destroyed).
 */
export function fromErrorObject(error: number, context: string, owned = true): KafkaError {
  const lib = rdkafka();
  const err = new KafkaError(lib.rd_kafka_error_code(error), `${context}: ${lib.rd_kafka_error_string(error)}`, {
    fatal: lib.rd_kafka_error_is_fatal(error) !== 0,
    retriable: lib.rd_kafka_error_is_retriable(error) !== 0,
    txnRequiresAbort: lib.rd_kafka_error_txn_requires_abort(error) !== 0,
  });
  if (owned) lib.rd_kafka_error_destroy(error);
  return err;
}

/** Throws for a non-NULL owned `rd_kafka_error_t*` (and frees it). */
export function checkErrorObject(error: number | null, context: string): void {
  if (error) throw fromErrorObject(error, context);
}
