/**
 * klink's named error codes are librdkafka's (rd_kafka_err2name): a wrong number once stood for
 * UNKNOWN_LEADER_EPOCH (76 is UNSUPPORTED_COMPRESSION_TYPE), so a broker restart's
 * "Leader epoch is newer than broker epoch" failed a ListOffsets instead of asking again.
 */
import { test, expect } from "bun:test";
import { ErrorCode, KafkaError, LEADER_MOVING } from "../../src/rdkafka/index.ts";
import { isWaitTooLong } from "../../src/link/interrupted.ts";

test("every named code has librdkafka's name", () => {
  for (const [name, code] of Object.entries(ErrorCode)) {
    const expected = code < 0 ? `_${name}` : name;
    expect(`${code} ${new KafkaError(code, "x").codeName}`).toBe(`${code} ${expected}`);
  }
});

test("leader-moving errors are asked again, and interrupt a partition instead of stopping it", () => {
  const names = [...LEADER_MOVING].map((code) => new KafkaError(code, "x").codeName).sort();
  expect(names).toEqual(["FENCED_LEADER_EPOCH", "LEADER_NOT_AVAILABLE", "NOT_LEADER_FOR_PARTITION", "OFFSET_NOT_AVAILABLE", "REQUEST_TIMED_OUT", "UNKNOWN_LEADER_EPOCH"]);
  expect(isWaitTooLong(new KafkaError(ErrorCode.UNKNOWN_LEADER_EPOCH, "list offsets t[0]: Broker: Leader epoch is newer than broker epoch"))).toBe(true);
  expect(isWaitTooLong(new KafkaError(76, "UNSUPPORTED_COMPRESSION_TYPE"))).toBe(false);
});
