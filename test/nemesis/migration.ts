/** The migration.yaml of one seed, in the seed's own directory (klink's sqlite state lands beside it). */
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import type { Clusters } from "../link/dual-write-workload.ts";

/** A loopback port free right now (the kernel's pick), for klink's status endpoint. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen({ port: 0, host: "127.0.0.1" }, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function writeMigration(dir: string, o: { clusters: Clusters; topics: string[]; linkName: string; offsets: "exact" | "auto"; storage: "sqlite" | "kafka"; fastLane: boolean }): Promise<string> {
  const file = join(dir, "migration.yaml");
  writeFileSync(
    file,
    `clusters:
  source: { bootstrap: "${o.clusters.source.bootstrap}" }
  target: { bootstrap: "${o.clusters.target.bootstrap}" }
link:
  name: ${o.linkName}
  topics: { names: [${o.topics.join(", ")}] }
  start: earliest
  offsets: ${o.offsets}${o.fastLane ? "\n  fastLane: true" : ""}
storage:
  plugin: ${o.storage}
status:
  listen: 127.0.0.1:${await freePort()}
`,
  );
  return file;
}
