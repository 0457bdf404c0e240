/**
 * From valid migration.yaml data (defaults filled in, plugins found) to the typed MigrationConfig:
 * sizes in bytes, selections compiled, per-topic overrides merged over the link's settings.
 */
import { basename, dirname, extname, resolve } from "node:path";
import type { ClientConfig } from "../rdkafka/config.ts";
import type { PluginKind } from "../../plugins/plugin.ts";
import type { Path } from "./issues.ts";
import type { Secrets } from "./secrets.ts";
import { toSelection } from "./select.ts";
import { parseSize } from "./sizes.ts";
import type { ClusterConfig, LinkConfig, MigrationConfig, PluginUse, StartPosition, TopicSettings } from "./types.ts";

type Obj = Record<string, any>;

export function resolveConfig(data: Obj, file: string, secrets: Secrets, uses: Array<PluginUse<PluginKind>>): MigrationConfig {
  const use = <K extends PluginKind>(path: Path): PluginUse<K> | null =>
    (uses.find((u) => JSON.stringify(u.path) === JSON.stringify(path)) as PluginUse<K> | undefined) ?? null;
  const cluster = (role: "source" | "target"): ClusterConfig => {
    const c = data.clusters[role];
    const bootstrap: string[] = (typeof c.bootstrap === "string" ? c.bootstrap.split(",") : c.bootstrap).map((s: string) => s.trim());
    return { role, bootstrap, auth: use<"auth">(["clusters", role, "auth"]), rack: c.rack ?? null, librdkafka: (c.librdkafka ?? {}) as ClientConfig };
  };
  const [host, port] = splitHostPort(data.status.listen);
  return {
    file,
    dir: dirname(file),
    clusters: { source: cluster("source"), target: cluster("target") },
    link: resolveLink(data.link),
    groups: toSelection(data.groups),
    cutover: use<"cutover">(["cutover"])!,
    storage: use<"storage">(["storage"])!,
    status: {
      listen: data.status.listen, host, port, allowRemote: data.status.allowRemote ?? false, hostNames: data.status.hostNames ?? [],
      tokenFile: resolve(dirname(file), data.status.tokenFile ?? `${basename(file, extname(file))}.klink.token`),
    },
    limits: { inFlightBytes: parseSize(data.limits.inFlightBytes), memoryBytes: parseSize(data.limits.memory) },
    secrets,
  };
}

function resolveLink(link: Obj): LinkConfig {
  const defaults = topicSettings(link, null);
  const overrides: Record<string, TopicSettings> = {};
  for (const [topic, o] of Object.entries((link.overrides ?? {}) as Record<string, Obj>)) overrides[topic] = topicSettings(o, defaults);
  const refreshSeconds: number | undefined = Array.isArray(link.topics) ? undefined : link.topics?.refreshSeconds;
  return { name: link.name, topics: toSelection(link.topics), topicsRefreshSeconds: refreshSeconds ?? 30, defaults, overrides, groupOffsetSync: link.groupOffsetSync ?? false, failback: link.failback ?? false, standby: link.standby ?? false, spread: link.spread ?? false, fastLane: link.fastLane ?? false,
    aclSync: { enabled: link.aclSync?.enabled ?? false, deletions: link.aclSync?.deletions ?? "keep", principals: link.aclSync?.principals ?? {} } };
}

/** Settings from `s`; what `s` does not say comes from `base` (the link's, for an override). */
function topicSettings(s: Obj, base: TopicSettings | null): TopicSettings {
  const start = (v: unknown): StartPosition => {
    if (v === "latest") return { kind: "latest" };
    if (v && typeof v === "object") {
      const ts = (v as Obj).timestamp;
      return { kind: "timestamp", timestampMs: typeof ts === "number" ? ts : Date.parse(ts) };
    }
    return { kind: "earliest" };
  };
  const configs: Record<string, string | null> = { ...base?.create.configs };
  for (const [k, v] of Object.entries((s.create?.configs ?? {}) as Obj)) configs[k] = v === null ? null : String(v);
  return {
    start: s.start === undefined && base ? base.start : start(s.start),
    offsets: s.offsets ?? base?.offsets,
    prefixFillLimit: s.prefixFillLimit ?? base?.prefixFillLimit,
    create: {
      replicationFactor: s.create?.replicationFactor ?? base?.create.replicationFactor ?? null,
      copyConfigs: s.create?.copyConfigs ?? base?.create.copyConfigs ?? true,
      configs,
    },
    configSync: {
      enabled: s.configSync?.enabled ?? base?.configSync.enabled ?? true,
      exclude: [...new Set([...(base?.configSync.exclude ?? []), ...((s.configSync?.exclude ?? []) as string[])])],
    },
  };
}

function splitHostPort(listen: string): [string, number] {
  const i = listen.lastIndexOf(":");
  return [listen.slice(0, i).replace(/^\[|\]$/g, ""), Number(listen.slice(i + 1))];
}
