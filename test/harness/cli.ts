// bun test/harness/cli.ts up [--three] [--security] | down | status
//   up      start (or keep, if already up) the test clusters and record them in clusters.json:
//           source  Kafka 3.9.2, 1 node, with SASL_SSL (SCRAM), SSL (mTLS) and SASL_PLAINTEXT (OAUTHBEARER) listeners
//           target  Kafka 4.4.0 (the newest), 1 node, PLAINTEXT only
//           three   Kafka 3.9.2, 3 nodes (only with --three)
//   down    stop every JVM the harness recorded (by pid) and remove the cluster data dirs
//   status  print the recorded clusters and whether they answer
import { rmSync } from "node:fs";
import { join } from "node:path";
import { isAnswering, startCluster, stopCluster, type KafkaCluster } from "./cluster.ts";
import { ensureJars } from "./jars.ts";
import { clustersFile, killStale, readClusters, stateDir, writeClusters } from "./state.ts";

function describe(c: KafkaCluster, up: boolean): string {
  const lines = [`${c.name}: Kafka ${c.version}, ${c.brokers.length} node(s), ${up ? "up" : "DOWN"}`, `  bootstrap         ${c.bootstrap}`];
  if (c.security) lines.push(`  sasl_ssl (SCRAM)  ${c.security.saslSslBootstrap}`, `  ssl (mTLS)        ${c.security.sslBootstrap}`,
    `  oauthbearer       ${c.security.oauthBootstrap}`);
  lines.push(`  pids              ${c.brokers.map((b) => b.pid).join(" ")}`, `  dir               ${c.dir}`);
  return lines.join("\n");
}

async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
  const t = Date.now();
  const r = await f();
  console.error(`${label}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return r;
}

async function up(three: boolean): Promise<void> {
  // fetch jars one after the other: two mvn runs at once would race on ~/.m2
  await timed("jars 3.9.2", () => ensureJars("3.9.2"));
  await timed("jars 4.4.0", () => ensureJars("4.4.0"));
  const starts = [
    timed("source", () => startCluster({ name: "source", version: "3.9.2", security: true })),
    timed("target", () => startCluster({ name: "target", version: "4.4.0" })),
  ];
  if (three) starts.push(timed("three", () => startCluster({ name: "three", version: "3.9.2", brokers: 3 })));
  const results = await Promise.allSettled(starts);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  for (const f of failed) console.error(String(f.reason?.stack ?? f.reason));
  for (const r of results) if (r.status === "fulfilled") console.log(describe(r.value, true));
  console.log(`recorded in ${clustersFile}`);
  if (failed.length) process.exit(1);
}

async function down(): Promise<void> {
  const all = readClusters();
  await Promise.all(Object.values(all).map((c) => stopCluster(c)));
  await killStale(() => true); // anything else we registered: tools, half-started clusters
  for (const c of Object.values(all)) rmSync(c.dir, { recursive: true, force: true });
  rmSync(join(stateDir, "clusters"), { recursive: true, force: true });
  writeClusters({});
  console.log("all harness clusters stopped");
}

async function status(): Promise<void> {
  const all = Object.values(readClusters());
  if (!all.length) console.log("no clusters recorded");
  for (const c of all) console.log(describe(c, await isAnswering(c)));
}

const [cmd, ...flags] = process.argv.slice(2);
// --security is accepted for symmetry: the source always has its security listeners
const unknown = flags.filter((f) => f !== "--three" && f !== "--security");
if (unknown.length || (cmd !== "up" && flags.length)) {
  console.error(`unknown option(s): ${flags.join(" ")}\nusage: bun test/harness/cli.ts up [--three] | down | status`);
  process.exit(2);
}
if (cmd === "up") await up(flags.includes("--three"));
else if (cmd === "down") await down();
else if (cmd === "status") await status();
else {
  console.error("usage: bun test/harness/cli.ts up [--three] | down | status");
  process.exit(2);
}
