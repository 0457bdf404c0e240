/**
 * How klink's clients reach one cluster: librdkafka properties, plus client options such as the
 * auth plugin's OAUTHBEARER token handler (every client of that cluster shares it).
 */
import type { ClientConfig } from "../rdkafka/index.ts";
import type { ClientOptions } from "../rdkafka/client.ts";

export interface Cluster {
  config: ClientConfig;
  options: ClientOptions;
}
