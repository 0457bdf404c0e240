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
import type { Store, TopicLifecycle } from "../src/state/store.ts";

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

// --- storage: the state model and the Store interface live in src/state/store.ts

export type {
  TopicLifecycle,
  GroupLifecycle,
  OffsetMode,
  TopicState,
  GroupState,
  PartitionState,
  OffsetMapRow,
  StoreWrite,
  Store,
} from "../src/state/store.ts";
export { StateInUseError } from "../src/state/store.ts";
