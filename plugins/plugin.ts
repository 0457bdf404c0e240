/**
 * The plugin contract. A plugin is a module that exports:
 *
 *   name           "sasl"                       how migration.yaml names it (`plugin: sasl`)
 *   kind           "storage" | "auth" | "cutover"
 *   optionsSchema  a JSON Schema (draft 2020-12) of its `options`, with descriptions, defaults
 *                  and examples: the one description of the plugin (`klink plugins`, editors).
 *                  Mark secret options `writeOnly: true` (they are redacted everywhere).
 *   check?         extra checks of valid options (files exist, options that exclude each other)
 *   create         the factory: validated options (defaults filled in) → the plugin instance
 *
 * Built-ins are listed in plugins/registry.ts; a user's plugin is a file path in migration.yaml
 * with the same exports (named, or as the fields of a default export).
 */
import type { Client, ClientOptions } from "../src/rdkafka/client.ts";
import type { ClientConfig } from "../src/rdkafka/config.ts";
import type { JsonSchema } from "../src/config/schema.ts";

export type PluginKind = "storage" | "auth" | "cutover";

export interface PluginContext {
  /** Absolute path of the migration.yaml, and its directory: resolve relative paths against it. */
  configFile: string;
  configDir: string;
  /** link.name of the migration. */
  linkName: string;
  /** For auth plugins: the cluster they connect to. */
  cluster?: "source" | "target";
  /** True for commands that must not change anything (`klink plan`): open state read-only. */
  readOnly: boolean;
  /**
   * For storage plugins that keep state on a cluster of the migration (storage/kafka): the
   * settings of klink's own clients of that cluster (bootstrap, rack, auth, `librdkafka:`).
   * Each call starts that cluster's auth plugin, so call it once. Absent where a command passes none.
   */
  clusterSettings?: (cluster: "source" | "target") => Promise<{ config: ClientConfig; options: ClientOptions }>;
}

/** A problem found by `check`, at a path relative to the plugin's options. */
export interface OptionProblem {
  path: Array<string | number>;
  message: string;
}

export interface Plugin<K extends PluginKind = PluginKind, O = any> {
  name: string;
  kind: K;
  optionsSchema: JsonSchema;
  check?(options: O, context: PluginContext): OptionProblem[];
  create(options: O, context: PluginContext): Instance<K> | Promise<Instance<K>>;
}

export type Instance<K extends PluginKind> = { storage: Store; auth: Auth; cutover: Cutover }[K];

// --- auth

/** How klink's clients authenticate to one cluster. */
export interface Auth {
  /** librdkafka properties: security.protocol, sasl.*, ssl.*. */
  properties: ClientConfig;
  /** For OAUTHBEARER: pass as ClientOptions.onTokenRefresh; it answers with client.setOAuthBearerToken(). */
  onTokenRefresh?: NonNullable<ClientOptions["onTokenRefresh"]>;
  /** For OAUTHBEARER: a fresh token, for clients that are not librdkafka (the group-protocol client). */
  token?: () => Promise<OAuthToken>;
}

export interface OAuthToken {
  token: string;
  /** When it expires, in ms since the epoch (what librdkafka calls the token's lifetime). */
  expiresAtMs: number;
  principal: string;
}

export type { Client };

// --- cutover

/** What a cutover policy is told about a consumer group. */
export interface GroupView {
  group: string;
  /** Active members on each cluster. */
  sourceMembers: number;
  targetMembers: number;
  /** The operator asked for it (`klink handoff GROUP`). */
  requested: boolean;
}

/** What a cutover policy is told about a linked topic. */
export interface TopicView {
  topic: string;
  state: TopicLifecycle;
  /** The operator asked for it (`klink promote TOPIC`). */
  requested: boolean;
  /** Milliseconds since a producer last wrote to the topic on the source (null: never seen). */
  sinceLastSourceWriteMs: number | null;
  /** Linked groups that still have members on the source. */
  groupsOnSource: number;
}

export type Decision = { go: true } | { go: false; reason: string };

/**
 * When to hand off a group and when to promote a topic. klink asks; the policy only decides
 * "now or not yet, and why". The safety conditions (the last source member has left, the Fetcher
 * and Router are drained) are checked by klink itself, whatever the policy says.
 */
export interface Cutover {
  handOff(group: GroupView): Decision;
  promote(topic: TopicView): Decision;
}

// --- storage

/** A linked topic's lifecycle (design.md): rollback is possible in every state before `promoted`. */
export type TopicLifecycle = "mirroring" | "dual-write" | "consumers-moving" | "promoted" | "rolled-back";
/** A linked group's handoff: watched, held on the target (fenced), handed off, or moved back. */
export type GroupLifecycle = "watching" | "fenced" | "handed-off" | "rolled-back";
export type OffsetMode = "exact" | "translate";

export interface TopicState {
  topic: string;
  state: TopicLifecycle;
  /** Free text for `klink status` (why the state changed). */
  detail: string | null;
  /** Epoch ms of the last change. */
  updatedAt: number;
}

export interface GroupState {
  group: string;
  state: GroupLifecycle;
  detail: string | null;
  updatedAt: number;
}

export interface PartitionState {
  topic: string;
  partition: number;
  mode: OffsetMode;
  /** The source offset from which `mode` holds (a partition may fall back to translate mid-way). */
  sinceOffset: number;
  detail: string | null;
  updatedAt: number;
}

/**
 * One copied record: its offset on each cluster. `origin` says where it was first written:
 * "source" (copied by the Fetcher) or "target" (produced to the target, copied back by the Router).
 */
export interface OffsetMapRow {
  topic: string;
  partition: number;
  sourceOffset: number;
  targetOffset: number;
  origin: "source" | "target";
}

/** Thrown by a storage plugin's `create` when another instance holds the state for writing (`klink run` exits 2). */
export class StateInUseError extends Error {
  override name = "StateInUseError";
}

/** One change; a batch of them is applied atomically (all or none, also across kill -9). */
export type StoreWrite =
  | { put: string; value: string | null }
  | { topic: string; state: TopicLifecycle; detail?: string | null }
  | { group: string; state: GroupLifecycle; detail?: string | null }
  | { partition: { topic: string; partition: number }; mode: OffsetMode; sinceOffset: number; detail?: string | null }
  | { offsets: OffsetMapRow[] };

/**
 * Where migration state lives. Once `write` resolves, the change survives kill -9 of klink.
 * Methods may be called concurrently; writes are applied in call order.
 *
 * One writer per link: a store opened for writing either refuses while another instance has it
 * (`create` throws StateInUseError; storage/sqlite) or takes it over and tells the old instance
 * through `fenced` (storage/kafka).
 */
export interface Store {
  /** Where the state is, for messages ("/srv/klink/migration.klink.db"). */
  readonly location: string;
  /**
   * Resolves (never rejects) once another instance has taken this state over for writing. From
   * then on writes fail, and the instance must stop writing to the clusters at once: `klink run`
   * stops copying and exits 2 with the error's message. Absent: the store never hands over.
   */
  readonly fenced?: Promise<Error>;
  write(changes: StoreWrite[]): Promise<void>;

  get(key: string): Promise<string | null>;
  topics(): Promise<TopicState[]>;
  groups(): Promise<GroupState[]>;
  partitions(topic?: string): Promise<PartitionState[]>;

  /**
   * Translation through the offset map: among the rows at or after `offset` on the `from` side,
   * the one with the lowest offset on the other side. A group committed at source offset c (next
   * record to read) resumes on the target at `(await seek("source", t, p, c))?.targetOffset`: no
   * record the group had not consumed is skipped, also where dual write made the two clusters'
   * orders differ. null when no row is at or after `offset`.
   */
  seek(from: "source" | "target", topic: string, partition: number, offset: number): Promise<OffsetMapRow | null>;
  /** The row with the highest offset on the `side` given, optionally only those of one origin. */
  last(side: "source" | "target", topic: string, partition: number, origin?: OffsetMapRow["origin"]): Promise<OffsetMapRow | null>;
  /** Rows in `side`-offset order (default source) from offset `from` on that side, at most `limit` (export, verify, restart). */
  offsetMap(topic: string, partition: number, from: number, limit: number, side?: "source" | "target"): Promise<OffsetMapRow[]>;

  close(): Promise<void>;
}
