/**
 * The resolved migration.yaml: validated, defaults filled in, plugins found, references
 * interpolated, sizes in bytes, regular expressions compiled. What every command works from.
 */
import type { ClientConfig } from "../rdkafka/config.ts";
import type { Plugin, PluginKind } from "../../plugins/plugin.ts";
import type { Path } from "./issues.ts";
import type { Secrets } from "./secrets.ts";

export interface MigrationConfig {
  /** Absolute path of the YAML file, and its directory (relative paths in it resolve against that). */
  file: string;
  dir: string;
  clusters: { source: ClusterConfig; target: ClusterConfig };
  link: LinkConfig;
  /** Consumer groups to hand off (none when `groups` is absent). */
  groups: Selection;
  cutover: PluginUse<"cutover">;
  storage: PluginUse<"storage">;
  status: {
    listen: string;
    host: string;
    port: number;
    /** Absolute path of the control token file. */
    tokenFile: string;
    allowRemote: boolean;
    /** Extra names accepted in the Host header. */
    hostNames: string[];
  };
  limits: { inFlightBytes: number; memoryBytes: number };
  /** Every secret value of the file: pass anything printed through `secrets.redact()`. */
  secrets: Secrets;
}

export interface ClusterConfig {
  role: "source" | "target";
  /** "host:port" each. */
  bootstrap: string[];
  auth: PluginUse<"auth"> | null;
  rack: string | null;
  /** Raw librdkafka overrides, applied last. */
  librdkafka: ClientConfig;
}

/** A plugin as configured: which one, its options (validated, defaults filled in), and where in the YAML. */
export interface PluginUse<K extends PluginKind> {
  plugin: Plugin<K>;
  /** As written: a built-in name or a path. */
  ref: string;
  options: Record<string, unknown>;
  path: Path;
}

/** Names match exactly; patterns match whole names; `exclude` wins over both. */
export interface Selection {
  names: string[];
  patterns: RegExp[];
  exclude: RegExp[];
}

export type StartPosition = { kind: "earliest" } | { kind: "latest" } | { kind: "timestamp"; timestampMs: number };
export type OffsetsSetting = "exact" | "translate" | "auto";

export interface TopicSettings {
  start: StartPosition;
  offsets: OffsetsSetting;
  prefixFillLimit: number;
  create: {
    /** null: the target broker's default. */
    replicationFactor: number | null;
    copyConfigs: boolean;
    /** Over the copied configs; null drops a copied one. */
    configs: Record<string, string | null>;
  };
  /** Live topic config sync while mirrored (config-sync.ts). */
  configSync: {
    enabled: boolean;
    /** Config names never synced: the target topic keeps its own. */
    exclude: string[];
  };
}

export interface LinkConfig {
  name: string;
  topics: Selection;
  /** link.topics.refreshSeconds: how often a running klink looks for new source topics to link (new-topics.ts). */
  topicsRefreshSeconds: number;
  /** The link's settings, for every topic without an override. */
  defaults: TopicSettings;
  /** Complete settings (link's merged with the override) of topics named under `overrides`. */
  overrides: Record<string, TopicSettings>;
  /** Copy committed offsets of groups klink does not hand off to the target (group-offset-sync.ts). */
  groupOffsetSync: boolean;
  /** After promote, the source stays a live replica of the target until `klink retire` (docs/lifecycle.md, "Failback"). */
  failback: boolean;
  /** Several `klink run` of this link: one runs it, the others stand by (src/workers/link-ownership.ts). */
  standby: boolean;
  /** With standby: the standing-by workers copy the partitions the runner lends them (src/workers/spread-partitions.ts). */
  spread: boolean;
  /** Plain mirroring partitions are copied as record batches by this klink's fast lane (src/workers/local-fast-lane.ts). */
  fastLane: boolean;
  /** ACL sync (acl-sync.ts). */
  aclSync: AclSyncSettings;
}

export interface AclSyncSettings {
  enabled: boolean;
  /** A binding removed on the source: `mirror` removes the one klink created on the target, `keep` leaves it. */
  deletions: "keep" | "mirror";
  /** Source principal → target principal; null: not copied. */
  principals: Record<string, string | null>;
}
