// Apache Kafka jars from Maven Central, cached outside the repo, plus the log4j configs
// and the `java` command line shared by brokers and tools.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { KafkaVersion } from "./cluster.ts";

const pomDir = join(import.meta.dir, "maven");

export function cacheRoot(): string {
  if (process.env.KLINK_CACHE) return process.env.KLINK_CACHE;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "klink");
}

export function versionDir(version: KafkaVersion): string {
  return join(cacheRoot(), `kafka-${version}`);
}

/** Kafka 4.x logs through log4j2; 3.x and older through log4j 1.x (reload4j). */
const isLog4j2 = (v: KafkaVersion) => Number(v.split(".")[0]) >= 4;

// Brokers: INFO to <kafka.logs.dir>/server.log (the readiness check reads it).
// Tools: WARN to stderr, because Verifiable* print their JSON events on stdout.
const log4j1 = {
  broker: `log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=\${kafka.logs.dir}/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
# per-request logging is far too chatty at INFO
log4j.logger.kafka.request.logger=WARN
`,
  tool: `log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
`,
};
const log4j2 = {
  broker: `status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = \${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.request.name = kafka.request.logger
logger.request.level = WARN
`,
  tool: `status = warn
appender.stderr.type = Console
appender.stderr.name = STDERR
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = STDERR
`,
};

function logConfigPath(version: KafkaVersion, kind: "broker" | "tool"): string {
  return join(versionDir(version), `${isLog4j2(version) ? "log4j2" : "log4j"}-${kind}.properties`);
}

function writeLogConfigs(version: KafkaVersion): void {
  const texts = isLog4j2(version) ? log4j2 : log4j1;
  for (const kind of ["broker", "tool"] as const) {
    const path = logConfigPath(version, kind);
    // rewrite only on change, so a running JVM never sees a half-written file
    if (!existsSync(path) || readFileSync(path, "utf8") !== texts[kind]) writeFileSync(path, texts[kind]);
  }
}

const pending = new Map<KafkaVersion, Promise<string>>();

/**
 * Download Kafka `version` (broker, tools, MirrorMaker 2) into the cache and return the libs dir.
 * A marker file holding the POM's hash is written only after mvn succeeded, so later calls are
 * a no-op and an interrupted or outdated download is redone from scratch.
 */
export function ensureJars(version: KafkaVersion): Promise<string> {
  let p = pending.get(version);
  if (!p) {
    p = download(version);
    pending.set(version, p);
    p.catch(() => pending.delete(version));
  }
  return p;
}

async function download(version: KafkaVersion): Promise<string> {
  const pom = join(pomDir, `kafka-${version}.pom.xml`);
  if (!existsSync(pom)) throw new Error(`no POM for Kafka ${version}: add ${pom}`);
  const dir = versionDir(version);
  const libs = join(dir, "libs");
  const marker = join(dir, "libs.complete");
  const hash = createHash("sha256").update(readFileSync(pom)).digest("hex");
  mkdirSync(dir, { recursive: true });
  writeLogConfigs(version);
  if (existsSync(marker) && readFileSync(marker, "utf8").trim() === hash && existsSync(libs)) return libs;

  rmSync(marker, { force: true });
  rmSync(libs, { recursive: true, force: true });
  const started = Date.now();
  const proc = Bun.spawn(
    ["mvn", "-B", "-q", "dependency:copy-dependencies", "-DincludeScope=runtime", `-DoutputDirectory=${libs}`, "-f", pom],
    { stdout: "pipe", stderr: "pipe" },
  );
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) {
    throw new Error(
      `mvn could not fetch Kafka ${version} jars (exit ${code}). Is Maven installed and Maven Central reachable? ` +
        `Re-run: mvn -B dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=${libs} -f ${pom}\n${out}\n${err}`,
    );
  }
  writeFileSync(marker, hash + "\n");
  if (process.env.KLINK_HARNESS_VERBOSE) console.error(`kafka ${version} jars fetched in ${Date.now() - started} ms`);
  return libs;
}

/**
 * The argv to run `mainClass` from Kafka `version`'s jars.
 * `marker` goes into the command line so the pid registry can recognise the process later.
 */
export async function javaArgv(opts: {
  version: KafkaVersion;
  kind: "broker" | "tool";
  mainClass: string;
  args: string[];
  marker: string;
  jvm?: string[]; // heap etc.
  logsDir?: string; // brokers: where server.log goes
}): Promise<string[]> {
  const libs = await ensureJars(opts.version);
  const logProp = isLog4j2(opts.version)
    ? `-Dlog4j2.configurationFile=${logConfigPath(opts.version, opts.kind)}`
    : `-Dlog4j.configuration=file:${logConfigPath(opts.version, opts.kind)}`;
  return [
    "java",
    ...(opts.jvm ?? []),
    "-Djava.awt.headless=true",
    logProp,
    ...(opts.logsDir ? [`-Dkafka.logs.dir=${opts.logsDir}`] : []),
    `-Dklink.marker=${opts.marker}`,
    "-cp",
    `${libs}/*`,
    opts.mainClass,
    ...opts.args,
  ];
}
