/**
 * Which link a running klink belongs to: link.name from the file, and a random link id created
 * with the state the first time `klink run` opens it. The status endpoint reports both, and the
 * commands that talk to it (status, handoff, promote, rollback) refuse an endpoint of another link.
 */
import { randomUUID } from "node:crypto";
import type { Store } from "../state/store.ts";
import * as sqlite from "../../plugins/storage/sqlite.ts";
import type { MigrationConfig } from "../config/types.ts";
import { stateKey } from "../link/partition/state.ts";

export interface LinkIdentity {
  link: string;
  /** null: not known (a klink still starting, or a state the CLI cannot read without a cluster). */
  id: string | null;
}

const LINK_ID_KEY = stateKey.linkId;

/** The link's id, created and stored with the state if it has none yet; kept forever after. */
export async function linkId(store: Store): Promise<string> {
  const stored = await store.get(LINK_ID_KEY);
  if (stored) return stored;
  const id = randomUUID();
  await store.write([{ put: LINK_ID_KEY, value: id }]);
  return id;
}

/** The link id in FILE's state when reading it needs no cluster (storage/sqlite, read-only); else null. */
export async function localLinkId(config: MigrationConfig): Promise<string | null> {
  if (config.storage.plugin !== (sqlite as unknown)) return null;
  const path = sqlite.statePath(config.storage.options as { path?: string }, { configFile: config.file, configDir: config.dir });
  const store = new sqlite.SqliteStore(path, "full", true);
  try {
    return await store.get(LINK_ID_KEY);
  } finally {
    await store.close();
  }
}

/**
 * Why `answered` (what the endpoint at `address` says it runs) is not the link `expected` (named
 * `by` a file or a request); null when it is. An id unknown on either side is not compared.
 */
export function otherLink(answered: LinkIdentity, expected: LinkIdentity, address: string, by: string): string | null {
  if (answered.link !== expected.link) {
    return `the klink at ${address} runs link '${answered.link}', not link '${expected.link}' named by ${by}: ` +
      "nothing was done (status.listen points at another migration's klink)";
  }
  if (answered.id && expected.id && answered.id !== expected.id) {
    return `the klink at ${address} runs link '${answered.link}' with link id ${answered.id}, but ${by} expects link id ${expected.id} ` +
      "(another migration with the same link name): nothing was done";
  }
  return null;
}
