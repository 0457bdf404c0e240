/**
 * What `klink run` and `klink verify` share: the clients' settings from migration.yaml, the
 * state store, and the linked topics as found on the source right now.
 */
import type { MigrationConfig } from "../config/types.ts";
import { clientSettings, pluginContext } from "../config/clients.ts";
import { select, settingsFor } from "../config/select.ts";
import { formatPath } from "../config/issues.ts";
import { startPlugin } from "../../plugins/registry.ts";
import type { Store } from "../state/store.ts";
import type { Admin } from "../rdkafka/index.ts";
import type { Cluster } from "./cluster.ts";
import type { LinkedTopic } from "./linked-topic.ts";
import { RuntimeError, UserError } from "../errors.ts";
import { KafkaError } from "../rdkafka/index.ts";
import { connectAdmin } from "../plan/connect.ts";

export interface Clients {
  source: Cluster;
  target: Cluster;
}

/** Starts each cluster's auth plugin once; its token handler is shared by all clients of that cluster. */
export async function clusterClients(config: MigrationConfig, readOnly: boolean): Promise<Clients> {
  const [source, target] = await Promise.all([clientSettings(config, "source", readOnly), clientSettings(config, "target", readOnly)]);
  return { source, target };
}

/**
 * Both clusters answer (DescribeCluster), or a one-line KafkaError says which does not and why,
 * within seconds: before a command writes any state or waits on a cluster.
 */
export async function reachClusters(config: MigrationConfig, readOnly: boolean, connecting?: (role: "source" | "target", bootstrap: string) => void): Promise<void> {
  for (const role of ["source", "target"] as const) {
    connecting?.(role, config.clusters[role].bootstrap.join(","));
    await reachCluster(config, role, readOnly);
  }
}

async function reachCluster(config: MigrationConfig, role: "source" | "target", readOnly: boolean): Promise<void> {
  const { admin } = await connectAdmin(role, config.clusters[role].bootstrap.join(","), await clientSettings(config, role, readOnly));
  admin.close();
}

/**
 * The state store. A storage plugin that keeps the state on a cluster (storage/kafka) gets that
 * cluster's settings only once it answers, so `offsets` and `plan` fail fast there too.
 */
export async function openStore(config: MigrationConfig, readOnly: boolean): Promise<Store> {
  const clusterSettings = async (role: "source" | "target") => {
    await reachCluster(config, role, readOnly).catch((err) => {
      throw err instanceof KafkaError ? new RuntimeError(err.message) : err; // not a mistake in the plugin's options
    });
    return clientSettings(config, role, readOnly);
  };
  const context = { ...pluginContext(config, readOnly), clusterSettings };
  return startPlugin(config.storage.plugin, config.storage.options, context, formatPath(config.storage.path));
}

/**
 * The source topics the link selects, with their settings. Listed names that do not exist are an
 * error, unless `notYet` takes them (`klink run` links them once created: new-topics.ts).
 */
export async function linkedTopics(config: MigrationConfig, sourceAdmin: Admin, only?: string[], notYet?: (missing: string[]) => void): Promise<LinkedTopic[]> {
  // listTopics blocks the JS thread; connect (and answer an OAUTHBEARER token request) first.
  await sourceAdmin.describeCluster();
  let selected: string[] = [];
  for (let attempt = 0; ; attempt++) {
    const found = selectTopics(config, sourceAdmin.listTopics().map((t) => t.name));
    selected = found.selected;
    const missing = only ? found.missing.filter((t) => only.includes(t)) : found.missing;
    if (missing.length === 0) break;
    // A topic created moments ago may not be in every broker's metadata yet: ask again briefly.
    if (attempt === 4 && notYet) {
      notYet(missing);
      break;
    }
    if (attempt === 4) throw new UserError(`link.topics names topics the source does not have: ${missing.join(", ")}`);
    await Bun.sleep(1_000);
  }
  let topics = selected;
  if (only) {
    const unknown = only.filter((t) => !selected.includes(t));
    if (unknown.length) throw new UserError(`not linked by ${config.file}: ${unknown.join(", ")} (linked: ${selected.join(", ") || "none"})`);
    topics = only;
  }
  return topics.map((name) => linkedTopic(config, name));
}

/** The topics link.topics selects among `existing` (internal `__` ones only when listed by name), and listed names not among them. */
export function selectTopics(config: MigrationConfig, existing: string[]): { selected: string[]; missing: string[] } {
  return select(config.link.topics, existing.filter((n) => !n.startsWith("__") || config.link.topics.names.includes(n)));
}

/** A linked topic with its settings from migration.yaml. */
export function linkedTopic(config: MigrationConfig, name: string): LinkedTopic {
  const s = settingsFor(config.link, name);
  return { name, start: s.start, offsets: s.offsets, prefixFillLimit: s.prefixFillLimit, create: s.create, configSync: s.configSync };
}
