/**
 * librdkafka settings for a cluster of the migration: bootstrap servers, rack, the auth plugin's
 * properties and token handler, then the file's raw `librdkafka:` overrides (klink's own
 * properties cannot be overridden there: checks.ts refuses them).
 */
import type { ClientOptions } from "../rdkafka/client.ts";
import type { ClientConfig } from "../rdkafka/config.ts";
import type { OAuthToken, PluginContext } from "../../plugins/plugin.ts";
import { startPlugin } from "../../plugins/registry.ts";
import { formatPath } from "./issues.ts";
import type { MigrationConfig } from "./types.ts";

export interface ClientSettings {
  config: ClientConfig;
  options: ClientOptions;
  /** OAUTHBEARER: a fresh token for the group-protocol client. */
  token?: () => Promise<OAuthToken>;
}

/** Starts the cluster's auth plugin (a throw becomes a PluginStartError) and merges the settings. */
export async function clientSettings(migration: MigrationConfig, role: "source" | "target", readOnly: boolean): Promise<ClientSettings> {
  const cluster = migration.clusters[role];
  const config: ClientConfig = { "bootstrap.servers": cluster.bootstrap.join(","), "client.id": `klink-${migration.link.name}` };
  if (cluster.rack) config["client.rack"] = cluster.rack;
  const options: ClientOptions = {};
  let token: ClientSettings["token"];
  if (cluster.auth) {
    const auth = await startPlugin(cluster.auth.plugin, cluster.auth.options, pluginContext(migration, readOnly, role), formatPath(cluster.auth.path));
    Object.assign(config, auth.properties);
    if (auth.onTokenRefresh) options.onTokenRefresh = auth.onTokenRefresh;
    token = auth.token;
  }
  Object.assign(config, cluster.librdkafka);
  return token ? { config, options, token } : { config, options };
}

export function pluginContext(migration: MigrationConfig, readOnly: boolean, cluster?: "source" | "target"): PluginContext {
  return { configFile: migration.file, configDir: migration.dir, linkName: migration.link.name, readOnly, ...(cluster ? { cluster } : {}) };
}
