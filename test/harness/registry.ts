// Apicurio Registry (a real schema registry with a Confluent-compatible API) for the tests:
// downloaded from Maven Central into the cache, started on a free port with its KafkaSQL storage
// (the registry's whole state is a log in a Kafka topic), stopped by pid.
//
// Why 3.0.9: the 3.1+ builds need Java 21 (this machine and CI have Java 17); the 2.x artifacts on
// Maven Central are the in-memory build only (the 2.x KafkaSQL build is not published there).
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePorts } from "./cluster.ts";
import { cacheRoot } from "./jars.ts";
import { registerPid, stopProcess } from "./state.ts";

export const APICURIO_VERSION = "3.0.9";
const artifact = `io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`;

let pending: Promise<string> | undefined;

/** The registry's runner jar, downloaded and unpacked once (a marker file says the unpack finished). */
export function ensureApicurio(): Promise<string> {
  pending ??= download().catch((e) => {
    pending = undefined;
    throw e;
  });
  return pending;
}

async function download(): Promise<string> {
  const dir = join(cacheRoot(), `apicurio-registry-${APICURIO_VERSION}`);
  const jar = join(dir, `apicurio-registry-app-${APICURIO_VERSION}-runner.jar`);
  const marker = join(dir, "unpacked.complete");
  if (existsSync(marker) && existsSync(jar)) return jar;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = join(dir, "app.tar.gz");
  // dependency:get without transitive resolution: the 3.0.9 parent POM is not on Maven Central
  await run(["mvn", "-B", "-q", "dependency:get", "-Dtransitive=false", `-Dartifact=${artifact}`, `-Ddest=${archive}`], "mvn could not fetch Apicurio Registry");
  await run(["tar", "xzf", archive, "-C", dir], "could not unpack Apicurio Registry");
  rmSync(archive);
  writeFileSync(marker, artifact + "\n");
  return jar;
}

async function run(argv: string[], what: string): Promise<void> {
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${what} (exit ${code}): ${argv.join(" ")}\n${out}\n${err}`);
}

export interface Registry {
  url: string; // base URL of the Confluent-compatible API (…/apis/ccompat/v7)
  admin: string; // base URL of Apicurio's own v3 API
  pid: number;
  log: () => string;
  stop: () => Promise<void>;
}

/**
 * Start a registry whose storage is the topic `journal` on `bootstrap` (created if missing).
 * Resolves once the registry has read the journal to its end and answers HTTP.
 * Note: at start the registry writes one bootstrap record to the journal.
 */
export async function startRegistry(opts: { bootstrap: string; journal: string; snapshots: string }): Promise<Registry> {
  const jar = await ensureApicurio();
  const [port] = await freePorts(1);
  const marker = `klink-registry-${randomUUID()}`;
  const proc = Bun.spawn(
    [
      "java",
      "-Xms64m",
      "-Xmx384m",
      `-Dklink.marker=${marker}`,
      `-Dquarkus.http.port=${port}`,
      "-Dquarkus.http.host=127.0.0.1",
      "-Dapicurio.storage.kind=kafkasql",
      `-Dapicurio.kafkasql.bootstrap.servers=${opts.bootstrap}`,
      `-Dapicurio.kafkasql.topic=${opts.journal}`,
      `-Dapicurio.kafkasql.snapshots.topic=${opts.snapshots}`,
      // it creates its change-event topic at start: one per journal, not a shared "registry-events"
      `-Dapicurio.events.kafka.topic=${opts.journal}-events`,
      "-jar",
      jar,
    ],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  registerPid({ pid: proc.pid, marker, label: `apicurio registry :${port}`, owner: process.pid });
  let log = "";
  const keep = async (s: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of s) log = (log + decoder.decode(chunk, { stream: true })).slice(-200_000);
  };
  void keep(proc.stdout);
  void keep(proc.stderr);
  const registry: Registry = {
    url: `http://127.0.0.1:${port}/apis/ccompat/v7`,
    admin: `http://127.0.0.1:${port}/apis/registry/v3`,
    pid: proc.pid,
    log: () => log,
    stop: () => stopProcess(proc.pid, marker),
  };
  const deadline = Date.now() + 180_000;
  while (!log.includes("KafkaSQL storage bootstrapped") || !(await answers(`${registry.url}/subjects`))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      await registry.stop();
      throw new Error(`Apicurio Registry on port ${port} (journal ${opts.journal}) did not get ready:\n${log.slice(-4000)}`);
    }
    await Bun.sleep(250);
  }
  return registry;
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}
