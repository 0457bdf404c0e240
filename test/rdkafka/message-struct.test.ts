/**
 * MessageStruct.offset reads the int64 at byte 56 as two 32-bit words (no BigInt per record):
 * the same value as a 64-bit read, for offsets beyond 2^32 and for librdkafka's negative
 * logical offsets too.
 */
import { test, expect } from "bun:test";
import { ptr } from "bun:ffi";
import { MessageStruct } from "../../src/rdkafka/message-struct.ts";

test("offset: small, beyond 2^32, up to 2^53 - 1, and negative logical offsets", () => {
  const struct = new BigInt64Array(9); // 72 bytes, rd_kafka_message_t's size
  const at = ptr(struct) as unknown as number;
  for (const offset of [0, 1, 4_294_967_295, 4_294_967_296, 4_294_967_303, 123_456_789_012_345, Number.MAX_SAFE_INTEGER, -1, -2, -1001]) {
    struct[7] = BigInt(offset); // byte 56
    expect(MessageStruct.offset(at)).toBe(offset);
  }
});
