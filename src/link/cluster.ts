/**
 * How klink's clients reach one cluster: librdkafka properties, plus client options such as the
 * auth plugin's OAUTHBEARER token handler (every client of that cluster shares it).
 */
import type { ClientConfig } from "../rdkafka/index.ts";
import type { ClientOptions } from "../rdkafka/client.ts";
import type { OAuthToken } from "../../plugins/plugin.ts";

export interface Cluster {
  config: ClientConfig;
  options: ClientOptions;
  /** OAUTHBEARER: a fresh token for clients that are not librdkafka (the group-protocol client). */
  token?: () => Promise<OAuthToken>;
}
