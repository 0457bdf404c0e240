/**
 * How the Fetcher learns that it has read to a source partition's end (docs/offsets.md, "The end
 * of a partition"): from librdkafka's end-of-partition event, or sooner, from the high watermark
 * of the fetch that carried the last record read.
 */
import type { ConsumedMessage } from "../rdkafka/index.ts";

/**
 * The source's high watermark when the partition end was reached, from librdkafka's end-of-partition
 * event ("... reached end of partition at offset N (HighwaterMark H)"); null when not given. Above
 * the end it means a transaction is open there (exact-plan.ts): reading it is an optimisation, and
 * a librdkafka that words the event differently only makes klink wait for a later hole instead.
 */
export function eofHighWatermark(m: ConsumedMessage): number | null {
  const found = /HighwaterMark (\d+)/.exec(m.error?.message ?? "");
  return found ? Number(found[1]) : null;
}

