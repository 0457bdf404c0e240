// Where the harness keeps its state, and the registry of every JVM it starts.
//
// State dir: $KLINK_TEST_DIR, else <repo>/.klink-test (gitignored). It holds
//   clusters.json       the running clusters (KafkaCluster objects), keyed by name
//   clusters/<name>/    one data dir per cluster (configs, certs, logs, data)
//   pids/<pid>.json     one file per JVM we started: { pid, marker, label, owner? }
//
// A pid alone is not safe to kill later: after a crash the pid may belong to some
// other process. So every JVM gets a unique marker in its command line
// (-Dklink.marker=...), and we only signal a pid whose /proc/PID/cmdline still
// contains that marker.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { KafkaCluster } from "./cluster.ts";

export const repoRoot = resolve(import.meta.dir, "../..");
export const stateDir = process.env.KLINK_TEST_DIR ? resolve(process.env.KLINK_TEST_DIR) : join(repoRoot, ".klink-test");
export const clustersFile = join(stateDir, "clusters.json");
const pidsDir = join(stateDir, "pids");

export interface PidEntry {
  pid: number;
  marker: string; // appears in the process's command line
  label: string; // human readable: "source/node-1", "tool ProducerPerformance"
  owner?: number; // pid of the process that started it, for tools that must not outlive it
}

/** Write JSON atomically so a reader never sees half a file. */
function writeJson(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + "\n");
  renameSync(tmp, path);
}

export function registerPid(e: PidEntry): void {
  mkdirSync(pidsDir, { recursive: true });
  writeJson(join(pidsDir, `${e.pid}.json`), e);
}

export function unregisterPid(pid: number): void {
  rmSync(join(pidsDir, `${pid}.json`), { force: true });
}

export function registeredPids(): PidEntry[] {
  if (!existsSync(pidsDir)) return [];
  const out: PidEntry[] = [];
  for (const f of readdirSync(pidsDir)) {
    if (!f.endsWith(".json")) continue;
    try {
      out.push(JSON.parse(readFileSync(join(pidsDir, f), "utf8")));
    } catch {
      rmSync(join(pidsDir, f), { force: true }); // torn write from a crash
    }
  }
  return out;
}

/** True if pid is running and is still the process we started (marker in cmdline). Zombies have an empty cmdline. */
export function isOurs(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker);
  } catch {
    return false;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Signal pid only if it still carries our marker. Returns false if it was already gone. */
export function signalOurs(pid: number, marker: string, signal: NodeJS.Signals): boolean {
  if (!isOurs(pid, marker)) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, wait up to graceMs, then SIGKILL and wait until the process is gone. */
export async function stopProcess(pid: number, marker: string, graceMs = 20_000, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (!signalOurs(pid, marker, signal)) {
    unregisterPid(pid);
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isOurs(pid, marker) && Date.now() < deadline) await Bun.sleep(100);
  if (isOurs(pid, marker)) {
    signalOurs(pid, marker, "SIGKILL");
    const hard = Date.now() + 10_000;
    while (isOurs(pid, marker) && Date.now() < hard) await Bun.sleep(50);
    if (isOurs(pid, marker)) throw new Error(`pid ${pid} (${marker}) survived SIGKILL for 10 s; check \`ps -o pid,stat,cmd -p ${pid}\``);
  }
  unregisterPid(pid);
}

/**
 * End registered processes left over from a crashed run.
 * `filter` picks which entries are in scope (e.g. those of one cluster dir); tools whose
 * owner process is gone are always stale.
 */
export async function killStale(filter: (e: PidEntry) => boolean): Promise<void> {
  const stale = registeredPids().filter((e) => filter(e) || (e.owner !== undefined && !isAlive(e.owner)));
  await Promise.all(stale.map((e) => stopProcess(e.pid, e.marker, 5_000, "SIGKILL")));
}

export function readClusters(): Record<string, KafkaCluster> {
  if (!existsSync(clustersFile)) return {};
  return JSON.parse(readFileSync(clustersFile, "utf8"));
}

export function writeClusters(all: Record<string, KafkaCluster>): void {
  mkdirSync(stateDir, { recursive: true });
  writeJson(clustersFile, all);
}

/** Record (or update) one cluster in clusters.json. */
export function saveCluster(c: KafkaCluster): void {
  writeClusters({ ...readClusters(), [c.name]: c });
}

export function forgetCluster(name: string): void {
  const all = readClusters();
  delete all[name];
  writeClusters(all);
}

/** For tests: the cluster started by `bun test/harness/cli.ts up`. */
export function getCluster(name: string): KafkaCluster {
  const c = readClusters()[name];
  if (!c) throw new Error(`no cluster "${name}" in ${clustersFile}; start it with \`bun test/harness/cli.ts up\` first`);
  return c;
}
