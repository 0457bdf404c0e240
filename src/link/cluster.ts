/**
 * How klink's clients reach one cluster: librdkafka properties, plus client options such as the
 * auth plugin's OAUTHBEARER token handler (every client of that cluster shares it).
 */
import type { ClientConfig } from "../rdkafka/index.ts";
import type { ClientOptions } from "../rdkafka/client.ts";
import type { OAuthToken } from "../../plugins/plugin.ts";
import type { GroupClientSettings } from "../group/settings.ts";

export interface Cluster {
  config: ClientConfig;
  options: ClientOptions;
  /** OAUTHBEARER: a fresh token for clients that are not librdkafka (the group-protocol client). */
  token?: () => Promise<OAuthToken>;
}

/** The settings klink's own protocol clients (group, fast lane) reach the cluster with. */
export function groupSettings(c: Pick<Cluster, "config" | "token">): GroupClientSettings {
  return { config: c.config, ...(c.token ? { token: c.token } : {}) };
}
