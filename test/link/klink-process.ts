/** Runs the klink executable (dist/klink, built by `npm run setup`) against the test clusters. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { source, target } from "../helpers.ts";
import type { KafkaCluster } from "../harness/cluster.ts";

const KLINK = resolve(import.meta.dir, "../../dist/klink");

/** A migration.yaml in a fresh temp dir (its state file lands beside it). */
export function writeMigration(opts: { topics: string[]; linkName: string; start?: string; extra?: string; from?: KafkaCluster; to?: KafkaCluster }): string {
  const dir = mkdtempSync(join(tmpdir(), "klink-run-"));
  const port = 20000 + Math.floor(Math.random() * 10000);
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
  listen: 127.0.0.1:${port}
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
