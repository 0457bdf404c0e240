/** A MigrationConfig as plain data (for `validate --print`, `status`), secrets redacted. */
import type { ClusterConfig, MigrationConfig, PluginUse, Selection, TopicSettings } from "./types.ts";
import type { PluginKind } from "../../plugins/plugin.ts";
import { patternText } from "./select.ts";

export function plainConfig(config: MigrationConfig): Record<string, unknown> {
  const plugin = (u: PluginUse<PluginKind> | null) => (u ? { plugin: u.ref, options: u.options } : null);
  const selection = (s: Selection) => ({ names: s.names, regex: s.patterns.map(patternText), exclude: s.exclude.map(patternText) });
  const cluster = (c: ClusterConfig) => ({ bootstrap: c.bootstrap, auth: plugin(c.auth), rack: c.rack, librdkafka: c.librdkafka });
  const settings = (s: TopicSettings) => ({ ...s, start: s.start.kind === "timestamp" ? { timestamp: new Date(s.start.timestampMs).toISOString() } : s.start.kind });
  const plain = {
    file: config.file,
    clusters: { source: cluster(config.clusters.source), target: cluster(config.clusters.target) },
    link: {
      name: config.link.name,
      topics: { ...selection(config.link.topics), refreshSeconds: config.link.topicsRefreshSeconds },
      ...settings(config.link.defaults),
      overrides: Object.fromEntries(Object.entries(config.link.overrides).map(([t, s]) => [t, settings(s)])),
    },
    groups: selection(config.groups),
    cutover: plugin(config.cutover),
    storage: plugin(config.storage),
    status: { listen: config.status.listen, tokenFile: config.status.tokenFile, allowRemote: config.status.allowRemote, hostNames: config.status.hostNames },
    limits: { inFlightBytes: config.limits.inFlightBytes, memory: config.limits.memoryBytes },
  };
  return config.secrets.redactValue(plain);
}
