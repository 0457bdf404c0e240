/** Runs the klink executable (dist/klink, built by `npm run setup`) against the test clusters. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain } from "../helpers.ts";
import type { KafkaCluster } from "../harness/cluster.ts";

const KLINK = resolve(import.meta.dir, "../../dist/klink");

/** A migration.yaml in a fresh temp dir (its state file lands beside it); `listen` defaults to a random loopback port. */
export function writeMigration(opts: { topics: string[]; linkName: string; start?: string; extra?: string; from?: KafkaCluster; to?: KafkaCluster; listen?: string }): string {
  const dir = mkdtempSync(join(tmpdir(), "klink-run-"));
  const listen = opts.listen ?? `127.0.0.1:${20000 + Math.floor(Math.random() * 10000)}`;
  const file = join(dir, "migration.yaml");
  writeFileSync(
    file,
    `clusters:
  source: { bootstrap: "${(opts.from ?? source()).bootstrap}" }
  target: { bootstrap: "${(opts.to ?? target()).bootstrap}" }
link:
  name: ${opts.linkName}
  topics: { names: [${opts.topics.join(", ")}] }
  start: ${opts.start ?? "earliest"}
status:
  listen: ${listen}
${opts.extra ?? ""}`,
  );
  return file;
}

export function spawnKlink(args: string[]) {
  return Bun.spawn([KLINK, ...args], { stdout: "pipe", stderr: "pipe" });
}

/** Runs klink to completion; returns exit code and output. */
export async function klink(args: string[], timeoutMs = 300_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = spawnKlink(args);
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Waits until `klink status FILE` answers (the instance runs), and returns its --json answer. */
export async function statusWhenRunning(file: string): Promise<any> {
  for (;;) {
    const r = await klink(["status", file, "--json"]);
    if (r.code === 0) return JSON.parse(r.stdout);
    await Bun.sleep(200);
  }
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
