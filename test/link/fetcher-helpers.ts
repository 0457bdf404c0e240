/** Runs a link directly (without the CLI) for engine-level tests. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create as createSqlite } from "../../plugins/storage/sqlite.ts";
import { Link } from "../../src/link/link.ts";
import type { LinkedTopic } from "../../src/link/linked-topic.ts";
import type { StartPosition } from "../../src/config/types.ts";
import { verifyTopic, identical, type PartitionVerdict } from "../../src/link/verify.ts";
import { source, target, plain, uniqueName } from "../helpers.ts";
import type { Store } from "../../src/state/store.ts";

export function tempStore(): Store {
  const dir = mkdtempSync(join(tmpdir(), "klink-test-"));
  return createSqlite({ path: join(dir, "state.db"), synchronous: "normal" }, { configFile: join(dir, "m.yaml"), configDir: dir, linkName: "test", readOnly: false });
}

/** Mirrors `topics` source → target until caught up; returns what the Fetcher logged. */
/** A linked topic with the defaults of migration.yaml. */
export function linked(name: string, start: StartPosition = { kind: "earliest" }, more: Partial<LinkedTopic> = {}): LinkedTopic {
  return { name, start, offsets: "auto", ...more, prefixFillLimit: more.prefixFillLimit ?? 10_000_000, create: { replicationFactor: null, copyConfigs: true, configs: {} }, configSync: { enabled: true, exclude: [] } };
}

export async function mirrorOnce(topics: LinkedTopic[], store: Store = tempStore(), linkName = uniqueName("link")): Promise<{ log: string[]; fetcher: Link }> {
  const log: string[] = [];
  const fetcher = new Link({
    linkName, source: { config: plain(source()), options: {} }, target: { config: plain(target()), options: {} }, topics, store,
    maxInFlightBytes: 64 << 20, memoryBytes: 1 << 30, log: (l) => log.push(l),
  });
  await fetcher.start();
  await fetcher.run(true);
  await fetcher.close();
  return { log, fetcher };
}

export async function verify(topic: string, store?: Store): Promise<PartitionVerdict[]> {
  const verdicts = await verifyTopic({ config: plain(source()), options: {} }, { config: plain(target()), options: {} }, topic, store);
  for (const v of verdicts) if (!identical(v)) console.error(JSON.stringify(v));
  return verdicts;
}
