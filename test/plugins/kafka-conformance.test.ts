/**
 * storage/kafka runs the Store conformance suite on the shared target cluster: each test's state
 * is a new state topic of a new link.
 */
import { create } from "../../plugins/storage/kafka.ts";
import type { PluginContext, Store } from "../../plugins/plugin.ts";
import { plain, target, uniqueName } from "../helpers.ts";
import { runStoreConformance } from "./store-conformance.ts";

const context = (linkName: string, readOnly: boolean): PluginContext => ({
  configFile: "/srv/m/migration.yaml",
  configDir: "/srv/m",
  linkName,
  readOnly,
  clusterSettings: async () => ({ config: plain(target()), options: {} }),
});

const open = (linkName: string, readOnly: boolean): Promise<Store> => create({ cluster: "target", replicationFactor: -1, configs: {} }, context(linkName, readOnly));

/** The link of each state opened (by the store's location): reopening names the same link. */
const links = new Map<string, string>();

runStoreConformance("storage/kafka", {
  newStore: async () => {
    const link = uniqueName("conformance");
    const store = await open(link, false);
    links.set(store.location, link);
    return store;
  },
  reopen: (store, { readOnly }) => open(links.get(store.location)!, readOnly),
  timeoutMs: 120_000,
});
