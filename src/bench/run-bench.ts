/**
 * One `klink bench` run: scratch topics on both clusters, the phases in order, and the scratch
 * topics deleted again whatever happened. The user's topics are never written: the exact lane
 * copies only the scratch topic, with a state store of its own in a temporary directory.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MigrationConfig } from "../config/types.ts";
import type { Clients } from "../link/session.ts";
import { Link } from "../link/link.ts";
import { create as createSqlite } from "../../plugins/storage/sqlite.ts";
import { ScratchTopics, scratchName } from "./scratch.ts";
import { generated, sampled } from "./dataset.ts";
import { endOffsets, fastLane, latency, pipe, read, STALL_MS, timed, write, type Latency, type Measured, type Progress } from "./phases.ts";

export interface BenchOptions {
  megabytes: number;
  recordBytes: number;
  partitions: number;
  compression: string;
  /** Latency phase: records a second, and for how long. */
  rate: number;
  seconds: number;
  /** A source topic whose first records are the data (read only). */
  sample?: string;
}

export interface BenchReport {
  link: string;
  source: string;
  target: string;
  options: BenchOptions;
  scratchTopic: string;
  phases: Measured[];
  latency: Latency | null;
  /** Scratch topics that could not be deleted (the operator deletes them). */
  leftBehind: string[];
}

export async function runBench(config: MigrationConfig, clients: Clients, options: BenchOptions, progress: Progress, debug: (line: string) => void): Promise<BenchReport> {
  const topic = scratchName(config.link.name);
  const { partitions } = options;
  const totalBytes = options.megabytes * 1e6;
  const onSource = new ScratchTopics("source", clients.source);
  const onTarget = new ScratchTopics("target", clients.target);
  const report: BenchReport = {
    link: config.link.name, source: config.clusters.source.bootstrap.join(","), target: config.clusters.target.bootstrap.join(","),
    options, scratchTopic: topic, phases: [], latency: null, leftBehind: [],
  };
  const stateDir = mkdtempSync(join(tmpdir(), "klink-bench-"));
  const deleteScratch = async () => {
    rmSync(stateDir, { recursive: true, force: true });
    return [...(await onSource.deleteAll()), ...(await onTarget.deleteAll())];
  };
  try {
    const records = options.sample ? await sampled(clients.source, options.sample, Math.min(totalBytes, 64e6)) : generated(options.recordBytes);
    await onSource.create(topic, partitions);
    await onTarget.create(`${topic}-pipe`, partitions);
    await onTarget.create(`${topic}-lane`, partitions);
    const written = await write(clients.source, topic, partitions, records, totalBytes, options.compression, progress);
    report.phases.push(written);
    report.phases.push(await read(clients.source, topic, partitions, written.bytes, progress));
    report.phases.push(await pipe(clients.source, clients.target, topic, `${topic}-pipe`, partitions, written.bytes, progress));
    report.phases.push(await fastLane(clients.source, clients.target, topic, `${topic}-lane`, partitions, written.bytes, progress));

    const store = createSqlite({ path: join(stateDir, "state.db"), synchronous: "normal" }, { configFile: join(stateDir, "bench.yaml"), configDir: stateDir, linkName: `bench-${topic}`, readOnly: false });
    onTarget.adopt(topic); // the Link creates it on the target
    const link = new Link({
      linkName: `bench-${topic}`, source: clients.source, target: clients.target, store,
      topics: [{ name: topic, start: { kind: "earliest" }, offsets: "exact", prefixFillLimit: 0, create: { replicationFactor: null, copyConfigs: true, configs: {} }, configSync: { enabled: false, exclude: [] } }],
      maxInFlightBytes: config.limits.inFlightBytes, memoryBytes: config.limits.memoryBytes, log: debug,
    });
    let running: Promise<void> | null = null;
    try {
      const sourceEnd = await endOffsets(clients.source, topic, partitions);
      report.phases.push(await timed("klink exact lane", async () => {
        await link.start();
        running = link.run(false);
        let lastNews = performance.now();
        for (let copied = 0; copied < sourceEnd; await Promise.race([Bun.sleep(200), running])) {
          const now = await endOffsets(clients.target, topic, partitions);
          if (now > copied) lastNews = performance.now();
          else if (performance.now() - lastNews > STALL_MS) throw new Error(`the exact lane copied nothing for ${STALL_MS / 1000} s: ${Math.max(0, now)} of ${sourceEnd} records on the target`);
          copied = now;
          progress("exact lane", Math.max(0, copied) / sourceEnd * written.bytes, written.bytes);
          const failed = link.progress().find((p) => p.error);
          if (failed) throw new Error(`the exact lane stopped ${topic}[${failed.partition}]: ${failed.error}`);
        }
        return { records: written.records, bytes: written.bytes };
      }));
      report.latency = await latency(clients.source, clients.target, topic, partitions, options.rate, options.seconds, progress);
    } finally {
      link.stop();
      await (running as Promise<void> | null)?.catch(() => {});
      await link.close();
      await store.close();
    }
  } catch (err) {
    const leftBehind = await deleteScratch();
    if (leftBehind.length && err instanceof Error) err.message += `; scratch topics NOT deleted, delete them by hand: ${leftBehind.join("; ")}`;
    throw err;
  }
  report.leftBehind = await deleteScratch();
  return report;
}
