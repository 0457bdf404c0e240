/** What a Link is made of and told (link.ts); `klink run` builds it from the migration.yaml. */
import type { Store } from "../state/store.ts";
import type { Selection } from "../config/types.ts";
import type { Cluster } from "./cluster.ts";
import type { LinkedTopic } from "./linked-topic.ts";
import type { NewTopicsSettings } from "./new-topics.ts";

export interface LinkOptions {
  linkName: string;
  source: Cluster;
  target: Cluster;
  topics: LinkedTopic[];
  store: Store;
  /** Cap on bytes read and not yet acknowledged by the target (backpressure). */
  maxInFlightBytes: number;
  /** limits.memory: fetching pauses above it (memory-guard.ts). */
  memoryBytes: number;
  log: (line: string) => void;
  /** link.groupOffsetSync, and `groups:` (those klink hands off itself). */
  groupOffsetSync?: { groups: Selection } | null;
  /** Topics created on the source while klink runs are linked (new-topics.ts). */
  newTopics?: NewTopicsSettings | null;
  /** link.standby (docs/workers.md): the worker lease, asked before every batch; the copying producers' message.timeout.ms. */
  standby?: { mayWrite: () => boolean; messageTimeoutMs: number } | null;
}
