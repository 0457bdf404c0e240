/**
 * Which errors interrupt a partition instead of stopping it: the cluster did not answer in time (a
 * broker or the transaction coordinator restarting for longer than klink's waits). Such a
 * partition starts again by itself after RETRY_STOPPED_MS as after a restart (Link.retryInterrupted):
 * exact from the target's end, translate from its stored lane positions; so trying again is safe.
 */
import { ErrorCode, KafkaError, LEADER_MOVING } from "../rdkafka/index.ts";

/** A partition interrupted by a cluster that did not answer in time starts again after this (Link.run). */
export const RETRY_STOPPED_MS = 30_000;

/**
 * The cluster did not answer in time (a broker or the transaction coordinator restarting, a
 * leader moving): librdkafka's timeouts and transport errors, and Kafka's leader-moving errors.
 * The partition resumes as after a restart, so trying again is safe.
 */
export function isWaitTooLong(err: Error): boolean {
  return err instanceof KafkaError && WAIT_TOO_LONG.has(err.code);
}
const WAIT_TOO_LONG = new Set([
  ErrorCode.TIMED_OUT, ErrorCode.TRANSPORT, ErrorCode.ALL_BROKERS_DOWN, ErrorCode.MSG_TIMED_OUT,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR, ...LEADER_MOVING,
]);
