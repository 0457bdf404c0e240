// Real Apache Kafka clusters for tests: KRaft, each node a combined broker + controller JVM
// started from the Maven Central jars (see jars.ts). Everything listens on 127.0.0.1 only.
import { randomBytes, randomInt } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { join, resolve } from "node:path";
import { javaArgv } from "./jars.ts";
import { forgetCluster, isOurs, killStale, readClusters, registerPid, saveCluster, stateDir, stopProcess } from "./state.ts";

export type KafkaVersion = "3.9.2" | "4.3.1" | "4.4.0" | OldKafkaVersion;
/** Sources older than KRaft, run in ZooKeeper mode (zookeeper.ts). */
export type OldKafkaVersion = "2.8.2" | "2.4.1" | "1.1.1" | "0.10.2.2";
export interface BrokerProcess {
  nodeId: number;
  port: number;
  pid: number;
}
export interface KafkaCluster {
  name: string;
  version: KafkaVersion;
  dir: string;
  bootstrap: string; // PLAINTEXT "127.0.0.1:p1,127.0.0.1:p2"
  brokers: BrokerProcess[];
  security?: {
    saslSslBootstrap: string; // SASL_SSL listener, SCRAM-SHA-512 and SCRAM-SHA-256
    sslBootstrap: string; // SSL listener with ssl.client.auth=required (mTLS)
    oauthBootstrap: string; // SASL_PLAINTEXT listener, OAUTHBEARER with Kafka's unsecured validator: any `alg: none` JWT with `sub` and `exp`
    users: { admin: string; alice: string }; // username -> password
    caPem: string;
    clientCertPem: string;
    clientKeyPem: string;
    clientP12: string;
    clientP12Password: string;
    truststoreP12: string;
    truststorePassword: string;
  };
  /** A further listener the test asked for (startCluster's `extraListener`), e.g. Kerberos (kerberos.ts). */
  extraListener?: ExtraListener & { bootstrap: string };
}

/** A listener beyond the standard ones: its name, security protocol, the broker properties and JVM options it needs. */
export interface ExtraListener {
  name: string;
  protocol: "PLAINTEXT" | "SASL_PLAINTEXT";
  properties: Record<string, string>;
  jvm: string[];
}

const USERS = { admin: "admin-secret", alice: "alice-secret" };
const STORE_PASSWORD = "klink-test-pw";
/** The mTLS client certificate's subject; Kafka's principal for it is User:CN=klink-client. */
export const CLIENT_CERT_PRINCIPAL = "User:CN=klink-client";
const READY_TIMEOUT_MS = 90_000;
const BROKER_JVM = ["-Xms512m", "-Xmx1g", "-XX:+UseG1GC"];

const nodeDir = (c: KafkaCluster, id: number) => join(c.dir, `node-${id}`);
const configPath = (c: KafkaCluster, id: number) => join(nodeDir(c, id), "server.properties");
const logPath = (c: KafkaCluster, id: number) => join(nodeDir(c, id), "server.log");
const stdoutPath = (c: KafkaCluster, id: number) => join(nodeDir(c, id), "stdout.log");
/** Unique per node and present in the JVM's command line (see state.ts). Trailing "/" keeps node-1 from matching node-10. */
const brokerMarker = (c: KafkaCluster, id: number) => nodeDir(c, id) + "/";

// ---------- ports ----------

const reserved = new Set<number>();

function canBind(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once("error", () => res(false));
    srv.listen({ port, host: "127.0.0.1", exclusive: true }, () => srv.close(() => res(true)));
  });
}

/**
 * Free loopback ports below the kernel's ephemeral range, so that no outgoing connection
 * can take one between our probe and the broker binding it (or when a broker restarts).
 */
export async function freePorts(n: number): Promise<number[]> {
  let top = 32768;
  try {
    top = Math.min(top, Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]));
  } catch {}
  for (const c of Object.values(readClusters())) for (const p of clusterPorts(c)) reserved.add(p);
  const out: number[] = [];
  for (let tries = 0; out.length < n; tries++) {
    if (tries > 2000) throw new Error(`no free loopback port found in 20000..${top}; are many Kafka clusters still running? try \`bun test/harness/cli.ts down\``);
    const p = randomInt(20000, top);
    if (reserved.has(p) || !(await canBind(p))) continue;
    reserved.add(p);
    out.push(p);
  }
  return out;
}

function clusterPorts(c: KafkaCluster): number[] {
  const all = [c.bootstrap, c.security?.saslSslBootstrap ?? "", c.security?.sslBootstrap ?? "", c.security?.oauthBootstrap ?? "", c.extraListener?.bootstrap ?? ""].join(",");
  return [...all.matchAll(/:(\d+)/g)].map((m) => Number(m[1]));
}

export function portOpen(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((res) => {
    const s = createConnection({ port, host: "127.0.0.1" });
    const done = (ok: boolean) => {
      s.destroy();
      res(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

// ---------- certificates ----------

function run(argv: string[], cwd: string): void {
  const r = Bun.spawnSync(argv, { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (exit ${r.exitCode}) in ${cwd}:\n${r.stderr.toString()}`);
}

/** A throwaway CA, a broker cert for 127.0.0.1 and a client cert, as PEM (librdkafka) and PKCS#12 (Java). */
function makeCerts(dir: string): NonNullable<KafkaCluster["security"]> {
  mkdirSync(dir, { recursive: true });
  const days = "3650";
  run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", days,
    "-subj", "/CN=klink-test-ca", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
  const leaf = (name: string, subject: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject], dir);
    run(["openssl", "x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", `0x${randomBytes(8).toString("hex")}`,
      "-out", `${name}.pem`, "-days", days, "-extfile", `${name}.ext`], dir);
    run(["openssl", "pkcs12", "-export", "-in", `${name}.pem`, "-inkey", `${name}.key`, "-certfile", "ca.pem", "-name", name,
      "-out", `${name}.p12`, "-passout", `pass:${STORE_PASSWORD}`], dir);
  };
  // clients verify the broker's hostname, and they connect to 127.0.0.1
  leaf("server", "/CN=127.0.0.1", "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n");
  leaf("client", "/CN=klink-client", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
  // a trust-only PKCS#12 needs Java's trusted-cert attribute, which openssl cannot write: use keytool
  run(["keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", "ca.pem", "-keystore", "truststore.p12",
    "-storetype", "PKCS12", "-storepass", STORE_PASSWORD], dir);
  return {
    saslSslBootstrap: "",
    sslBootstrap: "",
    oauthBootstrap: "",
    users: { ...USERS },
    caPem: join(dir, "ca.pem"),
    clientCertPem: join(dir, "client.pem"),
    clientKeyPem: join(dir, "client.key"),
    clientP12: join(dir, "client.p12"),
    clientP12Password: STORE_PASSWORD,
    truststoreP12: join(dir, "truststore.p12"),
    truststorePassword: STORE_PASSWORD,
  };
}

// ---------- config ----------

interface NodePorts {
  id: number;
  plain: number;
  controller: number;
  saslSsl?: number;
  ssl?: number;
  oauth?: number;
  extra?: number;
}

function serverProperties(c: KafkaCluster, n: NodePorts, all: NodePorts[]): string {
  const size = all.length;
  const minIsr = Math.min(2, size);
  const secure = c.security !== undefined;
  const listeners = [`PLAINTEXT://127.0.0.1:${n.plain}`, `CONTROLLER://127.0.0.1:${n.controller}`];
  const advertised = [`PLAINTEXT://127.0.0.1:${n.plain}`];
  if (secure) {
    const secured = [`SASL_SSL://127.0.0.1:${n.saslSsl}`, `SSL://127.0.0.1:${n.ssl}`, `OAUTH://127.0.0.1:${n.oauth}`];
    listeners.push(...secured);
    advertised.push(...secured);
  }
  const extra = c.extraListener;
  if (extra) {
    listeners.push(`${extra.name}://127.0.0.1:${n.extra}`);
    advertised.push(`${extra.name}://127.0.0.1:${n.extra}`);
  }
  const p: Record<string, string | number | boolean> = {
    "process.roles": "broker,controller",
    "node.id": n.id,
    // static voters: works on 3.9 and 4.x and needs no extra `format` flags
    "controller.quorum.voters": all.map((x) => `${x.id}@127.0.0.1:${x.controller}`).join(","),
    "controller.listener.names": "CONTROLLER",
    listeners: listeners.join(","),
    "advertised.listeners": advertised.join(","),
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": `CONTROLLER:${secure ? "SASL_PLAINTEXT" : "PLAINTEXT"},PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL,OAUTH:SASL_PLAINTEXT${extra ? `,${extra.name}:${extra.protocol}` : ""}`,
    "log.dirs": join(nodeDir(c, n.id), "data"),
    "num.partitions": 1,
    "default.replication.factor": size,
    "min.insync.replicas": minIsr,
    "auto.create.topics.enable": false,
    "offsets.topic.replication.factor": size,
    "transaction.state.log.replication.factor": size,
    "transaction.state.log.min.isr": minIsr,
    "group.initial.rebalance.delay.ms": 0,
    // retention tests should not wait the default 5 minutes for the cleaner to look
    "log.retention.check.interval.ms": 5000,
    "num.network.threads": 2,
    "num.io.threads": 4,
  };
  if (!c.version.startsWith("3.")) {
    p["share.coordinator.state.topic.replication.factor"] = size;
    p["share.coordinator.state.topic.min.isr"] = minIsr;
  }
  if (secure) {
    const s = c.security!;
    Object.assign(p, {
      // controllers cannot use SCRAM among themselves (the credentials live in the metadata log)
      "sasl.mechanism.controller.protocol": "PLAIN",
      "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
      "listener.name.controller.plain.sasl.jaas.config":
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="controller-secret" user_controller="controller-secret";',
      "listener.name.sasl_ssl.sasl.enabled.mechanisms": "SCRAM-SHA-512,SCRAM-SHA-256",
      "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required;",
      "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required;",
      "listener.name.ssl.ssl.client.auth": "required",
      // OAUTHBEARER with Kafka's default server callback handler, OAuthBearerUnsecuredValidatorCallbackHandler:
      // it accepts unsigned JWTs (`alg: none`, empty signature, parts in base64 without padding), checks
      // `exp` (and `iat` if present) and takes the principal from `sub`. The session ends when the token
      // expires (KIP-368), so a client must re-authenticate with a fresh one. unsecuredLoginStringClaim_sub
      // is for the broker's own login module, which every SASL listener runs at start-up; no client sees it.
      "listener.name.oauth.sasl.enabled.mechanisms": "OAUTHBEARER",
      "listener.name.oauth.oauthbearer.sasl.jaas.config":
        'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";',
      "ssl.keystore.type": "PKCS12",
      "ssl.keystore.location": join(c.dir, "certs", "server.p12"),
      "ssl.keystore.password": STORE_PASSWORD,
      "ssl.key.password": STORE_PASSWORD,
      "ssl.truststore.type": "PKCS12",
      "ssl.truststore.location": s.truststoreP12,
      "ssl.truststore.password": s.truststorePassword,
      "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
      // controller (PLAIN) and inter-broker (PLAINTEXT = ANONYMOUS) principals must be super users;
      // this also leaves the PLAINTEXT listener unrestricted, which the other tests rely on
      "super.users": ["User:admin", "User:controller", "User:ANONYMOUS", CLIENT_CERT_PRINCIPAL].join(";"),
      "allow.everyone.if.no.acl.found": true,
    });
  }
  if (extra) Object.assign(p, extra.properties);
  return Object.entries(p).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
}

/** Kafka's cluster ids are 16 random bytes, base64url without padding; ids starting with "-" are rejected by the CLI. */
function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

// ---------- processes ----------

async function runJavaOnce(c: KafkaCluster, mainClass: string, args: string[], marker: string): Promise<void> {
  const argv = await javaArgv({ version: c.version, kind: "tool", mainClass, args, marker, jvm: ["-Xmx256m"] });
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  registerPid({ pid: proc.pid, marker, label: `${c.name} ${mainClass}`, owner: process.pid });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  await stopProcess(proc.pid, marker); // just unregisters: it has exited
  if (code !== 0) throw new Error(`${mainClass} ${args.join(" ")} failed (exit ${code}):\n${out}\n${err}`);
}

function formatArgs(c: KafkaCluster, id: number, clusterId: string): string[] {
  const args = ["format", "-t", clusterId, "-c", configPath(c, id)];
  if (c.security) {
    // SCRAM users go into the metadata log at format time, so they exist before the first client connects
    for (const mech of ["SCRAM-SHA-512", "SCRAM-SHA-256"])
      for (const [name, password] of Object.entries(USERS)) args.push("--add-scram", `${mech}=[name=${name},password=${password}]`);
  }
  return args;
}

/** Start one node's JVM, detached so it outlives the process that started it (cli.ts up). */
async function spawnBroker(c: KafkaCluster, id: number): Promise<{ pid: number; logOffset: number }> {
  const marker = brokerMarker(c, id);
  const argv = await javaArgv({
    version: c.version,
    kind: "broker",
    mainClass: "kafka.Kafka",
    args: [configPath(c, id)],
    marker,
    jvm: [...BROKER_JVM, ...(c.extraListener?.jvm ?? [])],
    logsDir: nodeDir(c, id),
  });
  const logOffset = existsSync(logPath(c, id)) ? statSync(logPath(c, id)).size : 0;
  // JVM crashes and uncaught errors before log4j is up only show on stdout/stderr
  const fd = openSync(stdoutPath(c, id), "a");
  try {
    const proc = Bun.spawn(argv, { stdin: "ignore", stdout: fd, stderr: fd, detached: true });
    proc.unref();
    registerPid({ pid: proc.pid, marker, label: `${c.name}/node-${id}` });
    // until exec() the child's cmdline is still ours (bun's), and waitReady would take it for dead
    const until = Date.now() + 10_000;
    while (!isOurs(proc.pid, marker) && proc.exitCode === null && Date.now() < until) await Bun.sleep(10);
    return { pid: proc.pid, logOffset };
  } finally {
    closeSync(fd);
  }
}

function tail(path: string, lines = 40): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no file)";
  }
}

/** Ready = the JVM logged "Kafka Server started" (after logOffset) and its PLAINTEXT port accepts connections. */
async function waitReady(c: KafkaCluster, b: BrokerProcess, logOffset: number, deadline: number): Promise<void> {
  const marker = brokerMarker(c, b.nodeId);
  for (;;) {
    if (!isOurs(b.pid, marker)) {
      throw new Error(`Kafka ${c.version} broker ${c.name}/node-${b.nodeId} (pid ${b.pid}) exited during start-up.\n` +
        `--- ${logPath(c, b.nodeId)} (tail)\n${tail(logPath(c, b.nodeId))}\n--- ${stdoutPath(c, b.nodeId)} (tail)\n${tail(stdoutPath(c, b.nodeId))}`);
    }
    let started = false;
    try {
      started = readFileSync(logPath(c, b.nodeId)).subarray(logOffset).toString().includes("Kafka Server started");
    } catch {}
    if (started && (await portOpen(b.port))) return;
    if (Date.now() > deadline) {
      throw new Error(`Kafka ${c.version} broker ${c.name}/node-${b.nodeId} (pid ${b.pid}, port ${b.port}) not ready after ${READY_TIMEOUT_MS / 1000} s; ` +
        `it is left running for inspection, stop it with \`bun test/harness/cli.ts down\`.\n--- ${logPath(c, b.nodeId)} (tail)\n${tail(logPath(c, b.nodeId))}`);
    }
    await Bun.sleep(200);
  }
}

/** Every broker process is ours and its PLAINTEXT port answers. */
export async function isAnswering(c: KafkaCluster): Promise<boolean> {
  for (const b of c.brokers) if (!isOurs(b.pid, brokerMarker(c, b.nodeId)) || !(await portOpen(b.port))) return false;
  return true;
}

// ---------- public API ----------

/**
 * Start a KRaft cluster (or return the recorded one of that name and shape if it is still up)
 * and record it in clusters.json. Leftovers of an earlier run in its dir are killed and wiped.
 */
export async function startCluster(opts: {
  name: string;
  version: KafkaVersion;
  brokers?: 1 | 3;
  security?: boolean;
  extraListener?: ExtraListener;
  dir?: string;
}): Promise<KafkaCluster> {
  const size = opts.brokers ?? 1;
  const dir = resolve(opts.dir ?? join(stateDir, "clusters", opts.name));
  const recorded = readClusters()[opts.name];
  // a secured cluster recorded before it had the OAUTHBEARER listener is started anew
  if (recorded && recorded.dir === dir && recorded.version === opts.version && recorded.brokers.length === size &&
      !!recorded.security === !!opts.security && (!opts.security || recorded.security?.oauthBootstrap) && !opts.extraListener && (await isAnswering(recorded))) {
    return recorded;
  }
  if (recorded) await stopCluster(recorded);
  await killStale((e) => e.marker.startsWith(dir + "/"));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  const c: KafkaCluster = { name: opts.name, version: opts.version, dir, bootstrap: "", brokers: [] };
  if (opts.security) c.security = makeCerts(join(dir, "certs"));
  const perNode = (opts.security ? 5 : 2) + (opts.extraListener ? 1 : 0);
  const ports = await freePorts(size * perNode);
  const nodes: NodePorts[] = [];
  for (let i = 0; i < size; i++) {
    const mine = ports.slice(i * perNode, (i + 1) * perNode);
    const extra = opts.extraListener ? mine.pop() : undefined;
    const [plain, controller, saslSsl, ssl, oauth] = mine;
    nodes.push({ id: i + 1, plain: plain!, controller: controller!, saslSsl, ssl, oauth, extra });
  }
  if (opts.extraListener) c.extraListener = { ...opts.extraListener, bootstrap: nodes.map((n) => `127.0.0.1:${n.extra}`).join(",") };
  c.bootstrap = nodes.map((n) => `127.0.0.1:${n.plain}`).join(",");
  if (c.security) {
    c.security.saslSslBootstrap = nodes.map((n) => `127.0.0.1:${n.saslSsl}`).join(",");
    c.security.sslBootstrap = nodes.map((n) => `127.0.0.1:${n.ssl}`).join(",");
    c.security.oauthBootstrap = nodes.map((n) => `127.0.0.1:${n.oauth}`).join(",");
  }
  for (const n of nodes) {
    mkdirSync(nodeDir(c, n.id), { recursive: true });
    writeFileSync(configPath(c, n.id), serverProperties(c, n, nodes));
  }
  // every node of a cluster is formatted with the same cluster id
  const clusterId = randomClusterId();
  await Promise.all(nodes.map((n) =>
    runJavaOnce(c, "kafka.tools.StorageTool", formatArgs(c, n.id, clusterId), `${brokerMarker(c, n.id)}format`)));

  // start all nodes before waiting: with 3 voters none is ready until a quorum is up
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const offsets: number[] = [];
  for (const n of nodes) {
    const { pid, logOffset } = await spawnBroker(c, n.id);
    c.brokers.push({ nodeId: n.id, port: n.plain, pid });
    offsets.push(logOffset);
  }
  saveCluster(c); // record before waiting, so `down` finds it even if start-up fails
  await Promise.all(c.brokers.map((b, i) => waitReady(c, b, offsets[i]!, deadline)));
  return c;
}

/** SIGTERM every broker (a controlled shutdown), SIGKILL whatever is still up after 30 s, and forget the cluster. Data stays for inspection. */
export async function stopCluster(c: KafkaCluster): Promise<void> {
  await Promise.all(c.brokers.map((b) => stopProcess(b.pid, brokerMarker(c, b.nodeId), 30_000)));
  const rec = readClusters()[c.name];
  if (rec && rec.dir === c.dir) forgetCluster(c.name);
}

function broker(c: KafkaCluster, nodeId: number): BrokerProcess {
  const b = c.brokers.find((x) => x.nodeId === nodeId);
  if (!b) throw new Error(`cluster ${c.name} has no node ${nodeId} (nodes: ${c.brokers.map((x) => x.nodeId).join(", ")})`);
  return b;
}

function saveIfRecorded(c: KafkaCluster): void {
  const rec = readClusters()[c.name];
  if (rec && rec.dir === c.dir) saveCluster(c);
}

/**
 * SIGKILL (default: a crash) or SIGTERM (controlled shutdown) one node and wait until it is gone.
 * After SIGKILL the controller fences it only after broker.session.timeout.ms (9 s).
 */
export async function killBroker(c: KafkaCluster, nodeId: number, signal: "SIGKILL" | "SIGTERM" = "SIGKILL"): Promise<void> {
  const b = broker(c, nodeId);
  await stopProcess(b.pid, brokerMarker(c, nodeId), 30_000, signal);
}

/** Start a stopped node again with its old config and data; kills it first if it is still running. */
export async function restartBroker(c: KafkaCluster, nodeId: number): Promise<void> {
  const b = broker(c, nodeId);
  await stopProcess(b.pid, brokerMarker(c, nodeId), 30_000);
  // Once in CI (2026-12-07) a KRaft node restarted after SIGKILL gave up after 60 s "unable to
  // register with the controller quorum" and exited, and every later test on the cluster failed:
  // a node that exits during start-up is started once more.
  for (let attempt = 1; ; attempt++) {
    const { pid, logOffset } = await spawnBroker(c, nodeId);
    b.pid = pid;
    saveIfRecorded(c);
    try {
      return await waitReady(c, b, logOffset, Date.now() + READY_TIMEOUT_MS);
    } catch (err) {
      if (attempt >= 2 || isOurs(b.pid, brokerMarker(c, nodeId))) throw err;
      console.error(`${(err as Error).message.split("\n")[0]} Starting it once more.`);
    }
  }
}
