/**
 * The settings of the clients that copy records: the consumer that reads a cluster and the
 * producer that writes to the other. The Fetcher (source → target) and the Router (target →
 * source) use the same ones, and so does the benchmark's raw pipe (bench/replicate/pipe.ts).
 */
import type { ClientConfig } from "../rdkafka/config.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** A copying consumer's settings but for its fetch sizes (`copyingConsumer`). */
const COPYING_CONSUMER = {
  "isolation.level": "read_committed",
  // librdkafka's prefetch limits (they count records and decompressed value bytes) apply to the
  // consumer's one queue: keep them small so memory does not grow with the number of partitions.
  "queued.max.messages.kbytes": 8192,
  "queued.min.messages": 10_000,
  // librdkafka's default (1000 ms) idles a partition for a second whenever its prefetch queue
  // is full, which a fast reader of a backlog hits again and again.
  "fetch.queue.backoff.ms": 10,
  // The largest request the consumer sends (its Fetch requests are small); librdkafka refuses a
  // fetch.max.bytes below it, so a larger one set for the cluster's other clients must not apply.
  "message.max.bytes": 1_000_000,
} as const;

/**
 * The settings of a consumer that copies (the Fetcher's, the Router's, the benchmark's raw pipe's),
 * its fetch sizes from the limits. librdkafka fetches only while little is queued, but decompresses
 * each Fetch response whole, in its broker thread, before any of it can be read or dropped; and
 * fetch.max.bytes counts compressed bytes. With records compressed 270× a 16 MB response was a whole
 * 2 GB backlog in memory (bench/results/memory-*.md). So one response must fit in what limits.memory
 * leaves for prefetching (what is not limits.inFlightBytes nor 256 MiB for klink itself) even that
 * compressible: 512 resident bytes per compressed byte (~460 measured at 270×: the records plus
 * librdkafka's ~300 B per record). 1 MiB with the default limits, at most 16 MiB. Smaller
 * per-partition parts reach the reader sooner (records of a partition are readable once its part of
 * the response is decompressed).
 */
export function copyingConsumer(limits: { maxInFlightBytes: number; memoryBytes: number }): Record<string, string | number> {
  const response = Math.min(16 * MiB, Math.max(MiB, Math.floor((limits.memoryBytes - limits.maxInFlightBytes - 256 * MiB) / 512)));
  return {
    ...COPYING_CONSUMER,
    "fetch.max.bytes": response,
    "max.partition.fetch.bytes": Math.min(2 * MiB, Math.max(256 * KiB, Math.floor(response / 4))),
  };
}

/**
 * How long the Fetcher and the Router block for a delivery report when the producer's queue is
 * full: the first report wakes them at once; other work of the loop waits at most this long.
 */
export const QUEUE_FULL_WAIT_MS = 5;

/**
 * The copying producers' message.timeout.ms under link.standby: a record queued before the lease
 * ended is failed by librdkafka, not sent, once this much time has passed (test/workers/
 * paused-producer.test.ts); a new owner that finds no clean release waits this long (and a second).
 */
export const STANDBY_MESSAGE_TIMEOUT_MS = 10_000;

/** librdkafka's message.timeout.ms when one is set (link.standby), else nothing: librdkafka's default (5 min), or the cluster's `librdkafka:`. */
function messageTimeout(ms: number | undefined): { "message.timeout.ms"?: number } {
  return ms === undefined ? {} : { "message.timeout.ms": ms };
}

/** The target producer's settings. message.max.bytes at librdkafka's maximum: the target topic's max.message.bytes is the limit that counts (checkSize). */
export const FORWARD_PRODUCER = {
  "linger.ms": 5,
  "batch.size": 1_048_576,
  acks: "all",
  "max.in.flight.requests.per.connection": 5,
  "message.max.bytes": 1_000_000_000,
} as const;

/** What a cluster's `librdkafka:` may change in the forwarding producer: how records are batched (nothing a guarantee rests on). */
const FORWARD_PRODUCER_TUNABLE = ["linger.ms", "batch.size", "batch.num.messages"] as const;

/**
 * The settings of a producer that forwards copied records (the Fetcher's to the target, the
 * Router's to the source): the cluster's settings, klink's FORWARD_PRODUCER over them but for the
 * batching the operator tuned (FORWARD_PRODUCER_TUNABLE), and the standby's message timeout.
 */
export function forwardingProducer(cluster: ClientConfig, messageTimeoutMs: number | undefined): ClientConfig {
  const tuned = Object.fromEntries(FORWARD_PRODUCER_TUNABLE.filter((k) => cluster[k] !== undefined).map((k) => [k, cluster[k]!]));
  return { ...cluster, ...FORWARD_PRODUCER, ...tuned, ...messageTimeout(messageTimeoutMs) };
}

/**
 * librdkafka properties a cluster's `librdkafka:` may set for klink's other clients of that
 * cluster (admin, state store, fence) but that the copying clients replace with their own, with
 * what to change instead; `klink validate` says so (checks.ts).
 */
export const COPYING_CLIENTS_REPLACE: Record<string, string> = {
  ...Object.fromEntries(["fetch.max.bytes", "max.partition.fetch.bytes", ...Object.keys(COPYING_CONSUMER)].map((k) => [k, "klink sizes the copying consumer's fetching from limits.memory and limits.inFlightBytes"])),
  "max.in.flight.requests.per.connection": "the forwarding producer keeps 5 (the most librdkafka's idempotent producer keeps in order)",
  "message.max.bytes": "the copying consumer and the forwarding producer set their own (a topic's max.message.bytes is the limit that counts)",
};
