// Old Kafka sources (before KRaft): one ZooKeeper and one broker in ZooKeeper mode, both from the
// version's Maven jars (kafka_2.1x brings org.apache.zookeeper). Loopback only, free ports, and
// the same layout as cluster.ts (<dir>/node-1/), so isAnswering/stopCluster/tools work on it.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { freePorts, portOpen, type KafkaCluster, type OldKafkaVersion } from "./cluster.ts";
import { javaArgv } from "./jars.ts";
import { forgetCluster, isOurs, killStale, readClusters, registerPid, saveCluster, stateDir, stopProcess } from "./state.ts";

export const OLD_VERSIONS: OldKafkaVersion[] = ["2.8.2", "2.4.1", "1.1.1", "0.10.2.2"];

export function isOldVersion(v: string): v is OldKafkaVersion {
  return (OLD_VERSIONS as string[]).includes(v);
}

/** A ZooKeeper-mode cluster: a KafkaCluster plus its ZooKeeper. */
export interface ZkCluster extends KafkaCluster {
  zookeeper: { port: number; pid: number };
}

const READY_TIMEOUT_MS = 120_000;
/**
 * Java 17 closes the JDK's internals that Kafka 1.x/2.x reach by reflection (unmapping index
 * files through sun.nio.ch.DirectBuffer, for one); opening them is harmless on the newer versions.
 */
const OPENS = ["java.base/java.nio", "java.base/sun.nio.ch", "java.base/java.lang", "java.base/java.util", "java.base/java.io"]
  .flatMap((m) => ["--add-opens", `${m}=ALL-UNNAMED`]);
const BROKER_JVM = ["-Xms256m", "-Xmx768m", "-XX:+UseG1GC", ...OPENS];
const ZK_JVM = ["-Xms64m", "-Xmx256m", ...OPENS];

const brokerDir = (c: KafkaCluster) => join(c.dir, "node-1");
const zkDir = (c: KafkaCluster) => join(c.dir, "zookeeper");
const brokerMarker = (c: KafkaCluster) => brokerDir(c) + "/"; // as cluster.ts names a node's marker
const zkMarker = (c: KafkaCluster) => zkDir(c) + "/";

function tail(path: string, lines = 40): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no file)";
  }
}

function properties(p: Record<string, string | number | boolean>): string {
  return Object.entries(p).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
}

/** Spawn a detached JVM (it outlives a test's process, like cluster.ts's brokers); output to `dir`/stdout.log. */
async function spawnJvm(c: KafkaCluster, mainClass: string, args: string[], marker: string, dir: string, jvm: string[], label: string): Promise<number> {
  const argv = await javaArgv({ version: c.version, kind: "broker", mainClass, args, marker, jvm, logsDir: dir });
  const fd = openSync(join(dir, "stdout.log"), "a");
  try {
    const proc = Bun.spawn(argv, { stdin: "ignore", stdout: fd, stderr: fd, detached: true });
    proc.unref();
    registerPid({ pid: proc.pid, marker, label });
    const until = Date.now() + 10_000;
    while (!isOurs(proc.pid, marker) && proc.exitCode === null && Date.now() < until) await Bun.sleep(10);
    return proc.pid;
  } finally {
    closeSync(fd);
  }
}

async function waitFor(what: string, pid: number, marker: string, dir: string, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (!isOurs(pid, marker)) {
      throw new Error(`${what} (pid ${pid}) exited during start-up.\n--- ${dir}/server.log (tail)\n${tail(join(dir, "server.log"))}\n--- ${dir}/stdout.log (tail)\n${tail(join(dir, "stdout.log"))}`);
    }
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${what} (pid ${pid}) not ready after ${READY_TIMEOUT_MS / 1000} s\n--- ${dir}/server.log (tail)\n${tail(join(dir, "server.log"))}`);
    await Bun.sleep(250);
  }
}

/**
 * Start ZooKeeper and a single Kafka `version` broker in ZooKeeper mode under
 * <state dir>/clusters/<name>, recorded in clusters.json (so `cli.ts down` stops it too).
 * Leftovers of an earlier run in that dir are killed and wiped.
 */
export async function startZkCluster(opts: { name: string; version: OldKafkaVersion; dir?: string }): Promise<ZkCluster> {
  const dir = resolve(opts.dir ?? join(stateDir, "clusters", opts.name));
  const recorded = readClusters()[opts.name];
  if (recorded) await stopZkCluster(recorded as ZkCluster);
  await killStale((e) => e.marker.startsWith(dir + "/"));
  rmSync(dir, { recursive: true, force: true });
  const [zkPort, brokerPort] = await freePorts(2);
  const c: ZkCluster = {
    name: opts.name, version: opts.version, dir, bootstrap: `127.0.0.1:${brokerPort}`,
    brokers: [], zookeeper: { port: zkPort!, pid: 0 },
  };
  mkdirSync(zkDir(c), { recursive: true });
  mkdirSync(brokerDir(c), { recursive: true });

  const zkConfig = join(zkDir(c), "zookeeper.properties");
  writeFileSync(zkConfig, properties({
    dataDir: join(zkDir(c), "data"),
    clientPort: zkPort!,
    clientPortAddress: "127.0.0.1",
    maxClientCnxns: 0,
    "admin.enableServer": false, // ZooKeeper 3.5's HTTP admin server would take port 8080
  }));
  c.zookeeper.pid = await spawnJvm(c, "org.apache.zookeeper.server.ZooKeeperServerMain", [zkConfig], zkMarker(c), zkDir(c), ZK_JVM, `${c.name}/zookeeper`);
  saveCluster(c);
  await waitFor(`ZooKeeper of ${c.name}`, c.zookeeper.pid, zkMarker(c), zkDir(c), () => portOpen(zkPort!));

  const brokerConfig = join(brokerDir(c), "server.properties");
  writeFileSync(brokerConfig, properties({
    "broker.id": 1,
    listeners: `PLAINTEXT://127.0.0.1:${brokerPort}`,
    "advertised.listeners": `PLAINTEXT://127.0.0.1:${brokerPort}`,
    "zookeeper.connect": `127.0.0.1:${zkPort}`,
    "log.dirs": join(brokerDir(c), "data"),
    "num.partitions": 1,
    "default.replication.factor": 1,
    "min.insync.replicas": 1,
    "auto.create.topics.enable": false,
    "delete.topic.enable": true,
    "offsets.topic.replication.factor": 1,
    // a fresh broker creates these topics on the first group or idempotent producer; 50
    // partitions each took over a minute on a loaded machine (tools and klink timed out)
    "offsets.topic.num.partitions": 5,
    "transaction.state.log.num.partitions": 5,
    "transaction.state.log.replication.factor": 1,
    "transaction.state.log.min.isr": 1,
    "group.initial.rebalance.delay.ms": 0,
    "log.retention.check.interval.ms": 5000,
    "num.network.threads": 2,
    "num.io.threads": 4,
  }));
  const pid = await spawnJvm(c, "kafka.Kafka", [brokerConfig], brokerMarker(c), brokerDir(c), BROKER_JVM, `${c.name}/node-1`);
  c.brokers.push({ nodeId: 1, port: brokerPort!, pid });
  saveCluster(c);
  // ZooKeeper-mode brokers log "[KafkaServer id=1] started (kafka.server.KafkaServer)" (0.10: "[Kafka Server 1], started")
  const log = join(brokerDir(c), "server.log");
  await waitFor(`Kafka ${c.version} broker of ${c.name}`, pid, brokerMarker(c), brokerDir(c), async () =>
    existsSync(log) && /\],? started \(kafka\.server\.KafkaServer\)/.test(readFileSync(log, "utf8")) && (await portOpen(brokerPort!)));
  return c;
}

/** Stop the broker (controlled shutdown needs ZooKeeper), then ZooKeeper, and forget the cluster. Data stays for inspection. */
export async function stopZkCluster(c: ZkCluster): Promise<void> {
  for (const b of c.brokers) await stopProcess(b.pid, brokerMarker(c), 30_000);
  if (c.zookeeper) await stopProcess(c.zookeeper.pid, zkMarker(c), 10_000);
  const rec = readClusters()[c.name];
  if (rec && rec.dir === c.dir) forgetCluster(c.name);
}
