/**
 * Loading the repository's migration.yaml (what every klink command does first): YAML with
 * positions, ${env:...} interpolation, the JSON Schema, the plugins' schemas and checks.
 */
import { Bench } from "tinybench";
import { resolve } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import type { MicroResult } from "../replicate/report.ts";
import { results } from "./common.ts";

const FILE = resolve(import.meta.dir, "../../migration.yaml");
const ENV = { KLINK_SOURCE_BOOTSTRAP: "127.0.0.1:19092", KLINK_TARGET_BOOTSTRAP: "127.0.0.1:29092" };

export async function configLoadBench(iterations = 200): Promise<MicroResult[]> {
  await loadConfig(FILE, { env: ENV }); // first load compiles the schemas: not what is measured
  const bench = new Bench({ iterations, time: 0, warmupIterations: 10, warmupTime: 0 });
  bench.add("config: loadConfig(migration.yaml)", async () => {
    await loadConfig(FILE, { env: ENV });
  });
  await bench.run();
  return results(bench, { "config: loadConfig(migration.yaml)": { op: "load of the repo's migration.yaml", opsPerCall: 1 } });
}
