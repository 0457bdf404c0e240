/**
 * The settings of the clients that copy records: the consumer that reads a cluster and the
 * producer that writes to the other. The Fetcher (source → target) and the Router (target →
 * source) use the same ones, and so does the benchmark's raw pipe (bench/replicate/pipe.ts).
 */

/** The source consumer's settings (also the benchmark's raw pipe's: keep them the same). */
export const SOURCE_CONSUMER = {
  "isolation.level": "read_committed",
  // librdkafka's prefetch limits apply per partition (and count compressed bytes): keep them
  // small so memory does not grow with the number of partitions or the compression ratio.
  "queued.max.messages.kbytes": 8192,
  "queued.min.messages": 10_000,
  "max.partition.fetch.bytes": 2_097_152,
  "fetch.max.bytes": 16_777_216,
  // librdkafka's default (1000 ms) idles a partition for a second whenever its prefetch queue
  // is full, which a fast reader of a backlog hits again and again.
  "fetch.queue.backoff.ms": 10,
} as const;

/** The target producer's settings. message.max.bytes at librdkafka's maximum: the target topic's max.message.bytes is the limit that counts (checkSize). */
export const FORWARD_PRODUCER = {
  "linger.ms": 5,
  "batch.size": 1_048_576,
  acks: "all",
  "max.in.flight.requests.per.connection": 5,
  "message.max.bytes": 1_000_000_000,
} as const;
