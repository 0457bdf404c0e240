/** storage/sqlite runs the Store conformance suite on a file in a new temporary directory. */
import { join } from "node:path";
import { create } from "../../plugins/storage/sqlite.ts";
import type { PluginContext } from "../../plugins/plugin.ts";
import { tempDir } from "../config/cli.ts";
import { runStoreConformance } from "./store-conformance.ts";

const context = (dir: string, readOnly: boolean): PluginContext => ({ configFile: join(dir, "migration.yaml"), configDir: dir, linkName: "conformance", readOnly });

runStoreConformance("storage/sqlite", {
  newStore: async () => create({ synchronous: "full" }, context(tempDir(), false)),
  // The state file is the store's location: `path` is taken as it is.
  reopen: async (store, { readOnly }) => create({ path: store.location, synchronous: "full" }, context("/", readOnly)),
});
