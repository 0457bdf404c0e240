/** Runs the klink executable (dist/klink, built by `npm run setup`) against the test clusters. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, until, withAdmin } from "../helpers.ts";
import type { KafkaCluster } from "../harness/cluster.ts";

/** The executable under test: dist/klink, or KLINK_TEST_BIN (e.g. an older build, to see a test fail before a fix). */
const KLINK = process.env.KLINK_TEST_BIN ?? resolve(import.meta.dir, "../../dist/klink");

/** A migration.yaml in a fresh temp dir (its state file lands beside it); `listen` defaults to a random loopback port. */
export function writeMigration(opts: { topics: string[]; linkName: string; start?: string; offsets?: "exact" | "translate" | "auto"; extra?: string; linkExtra?: string; from?: KafkaCluster; to?: KafkaCluster; listen?: string; targetLibrdkafka?: string }): string {
  const dir = mkdtempSync(join(tmpdir(), "klink-run-"));
  const listen = opts.listen ?? `127.0.0.1:${freePort()}`;
  const file = join(dir, "migration.yaml");
  writeFileSync(
    file,
    `clusters:
  source: { bootstrap: "${(opts.from ?? source()).bootstrap}" }
  target: { bootstrap: "${(opts.to ?? target()).bootstrap}"${opts.targetLibrdkafka ? `, librdkafka: { ${opts.targetLibrdkafka} }` : ""} }
link:
  name: ${opts.linkName}
  topics: { names: [${opts.topics.join(", ")}] }
  start: ${opts.start ?? "earliest"}
  offsets: ${opts.offsets ?? "auto"}
${opts.linkExtra ?? ""}status:
  listen: ${listen}
${opts.extra ?? ""}`,
  );
  return file;
}

/** A loopback port free right now (the system picks it), for status.listen: a random one collided with other programs. */
export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

export function spawnKlink(args: string[]) {
  // Bun.spawn's default is the environment Bun started with: pass what tests set since (e.g. KRB5_CONFIG)
  return Bun.spawn([KLINK, ...args], { stdout: "pipe", stderr: "pipe", env: process.env });
}

/**
 * `klink run FILE` in the background, added to `running` (the test file kills what is left in
 * afterAll) until it exits. `log()`: its stderr so far, read as it comes; `output`: all of it, once
 * it exited; `status`: for until()'s early failure when it exited.
 */
export function runInBackground(file: string, running: Set<ReturnType<typeof spawnKlink>>) {
  const proc = spawnKlink(["run", file]);
  running.add(proc);
  let log = "";
  const output = (async () => {
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) log += new TextDecoder().decode(chunk);
    return log;
  })();
  const exited = proc.exited.then((code) => (running.delete(proc), code));
  return { file, proc, exited, output, log: () => log, status: { get exited() { return proc.exitCode !== null; }, summary: () => log } };
}

/** Runs klink to completion; returns exit code and output. */
export async function klink(args: string[], timeoutMs = 300_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = spawnKlink(args);
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** A `klink run` process whose output is kept (and drained, so klink never blocks on a full pipe). */
export class KlinkRun {
  readonly proc: ReturnType<typeof spawnKlink>;
  private out = "";
  private readonly drained: Promise<unknown>;

  constructor(readonly file: string) {
    const cmd = process.env.KLINK_TEST_KLINK_CMD;
    this.proc = cmd ? Bun.spawn([...(JSON.parse(cmd) as string[]), "run", file], { stdout: "pipe", stderr: "pipe", env: process.env }) : spawnKlink(["run", file]);
    const drain = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) this.out += decoder.decode(chunk, { stream: true });
    };
    this.drained = Promise.all([drain(this.proc.stdout), drain(this.proc.stderr)]);
    running.add(this);
  }

  /** Everything klink printed so far. */
  get output(): string {
    return this.out;
  }

  get exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  get logFile(): string {
    return join(dirname(this.file), `klink-${this.proc.pid}.log`);
  }

  /** The lines where klink stopped a partition, and the end of its log. */
  summary(): string {
    writeFileSync(this.logFile, this.out);
    const lines = this.out.split("\n");
    const stopped = lines.filter((l) => l.includes("stopped:"));
    return [`klink pid ${this.proc.pid} (${this.exited ? `exited: ${this.proc.exitCode ?? this.proc.signalCode}` : "running"}), whole log in ${this.logFile}`,
      stopped.length ? `partitions stopped:\n${stopped.slice(0, 12).join("\n")}` : "no partition stopped",
      `last lines:\n${lines.slice(-25).join("\n")}`].join("\n");
  }

  /** SIGTERM (or `signal`), SIGKILL after 30 s; resolves when the process is gone and its output read. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (!this.exited) {
      this.proc.kill(signal);
      const hard = setTimeout(() => this.proc.kill("SIGKILL"), 30_000);
      await this.proc.exited;
      clearTimeout(hard);
    }
    await this.drained;
    writeFileSync(this.logFile, this.out);
    running.delete(this);
  }
}

const running = new Set<KlinkRun>();

/** Kills every KlinkRun still running (for afterAll). */
export async function stopAllKlinks(): Promise<void> {
  await Promise.all([...running].map((k) => k.stop("SIGKILL")));
}

/** Waits until `klink status FILE` answers (the instance runs), and returns its --json answer. */
export async function statusWhenRunning(file: string): Promise<any> {
  for (;;) {
    const r = await klink(["status", file, "--json"]);
    if (r.code === 0 || (r.code === 2 && r.stdout.startsWith("{"))) return JSON.parse(r.stdout); // 2: a partition stopped
    await Bun.sleep(200);
  }
}

/**
 * One producer writing keys p-0, p-1, ... round-robin to the cluster it is moved to (a producer
 * application moving between clusters); `produced` counts what was sent, `stop()` flushes.
 */
export function movingProducer(first: KafkaCluster, topic: string, partitions: number) {
  let produced = 0;
  let on = true;
  let cluster = first;
  const done = (async () => {
    while (on) {
      const producer = new Producer(plain(cluster, { "linger.ms": 2 }));
      const here = cluster;
      while (on && cluster === here) {
        for (let i = 0; i < 10; i++, produced++) producer.produce({ topic, partition: produced % partitions, key: `p-${produced}`, value: `v${produced}` });
        await Bun.sleep(50);
      }
      await producer.flush();
      await producer.close();
    }
  })();
  return {
    get produced() {
      return produced;
    },
    moveTo: (c: KafkaCluster) => void (cluster = c),
    stop: async () => ((on = false), await done, produced),
  };
}

/**
 * Waits until the target holds as many records per partition as the source holds now: klink has
 * caught up, when the runbook moves producers. Moved before, their first records land on the target
 * ahead of the copies of records a group already processed, and the group, which may skip neither,
 * reads those copies again after its handoff.
 */
export async function caughtUp(topic: string, partitions: number): Promise<void> {
  const highs = async (c: KafkaCluster) => (await withAdmin(c, (a) => a.watermarks([...Array(partitions).keys()].map((partition) => ({ topic, partition }))))).map((m) => m.high);
  const onSource = await highs(source());
  await until(`klink has copied what ${topic} holds on the source`, async () => (await highs(target())).every((h, i) => h >= onSource[i]!));
}

/** Writes keyed records round-robin until stopped; returns how many. */
export function steadyProducer(cluster: KafkaCluster, topic: string, partitions: number, perTick = 20) {
  const producer = new Producer(plain(cluster, { "linger.ms": 2 }));
  let sent = 0;
  let on = true;
  const done = (async () => {
    while (on) {
      for (let i = 0; i < perTick; i++, sent++) producer.produce({ topic, partition: sent % partitions, key: `k${sent}`, value: `v${sent}` });
      await Bun.sleep(50);
    }
    await producer.flush();
    await producer.close();
  })();
  return { stop: async () => ((on = false), await done, sent) };
}
