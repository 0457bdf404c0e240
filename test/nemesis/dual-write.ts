/**
 * Workload "dual write": test/link's DualWriteWorkload (librdkafka producers and Kafka's
 * VerifiableProducers) starts on the source; while klink runs its producers move to the target
 * one at a time at random moments, and now and then one moves back (a producer's rollback).
 * Judged by that workload's own checker: every acknowledged record on both clusters once, in its
 * session's order, byte-identical, read by librdkafka and by Kafka's VerifiableConsumer.
 */
import { DualWriteWorkload } from "../link/dual-write-workload.ts";
import { createTopic } from "../harness/tools.ts";
import { uniqueName } from "../helpers.ts";
import type { Violation } from "./violations.ts";
import type { Workload, WorkloadContext } from "./workload.ts";

export class DualWriteNemesisWorkload implements Workload {
  readonly name = "dual-write";
  readonly offsets = "auto";
  readonly topic = uniqueName("nem-dual");
  readonly topics = [this.topic];
  private readonly w: DualWriteWorkload;
  private moving: Promise<void> | null = null;
  private running = false;
  private readonly setupViolations: Violation[] = [];

  constructor(private readonly ctx: WorkloadContext) {
    this.w = new DualWriteWorkload({
      topic: this.topic, clusters: ctx.clusters, rate: ctx.rng.int(50, 150), librdkafkaProducers: 1, verifiableProducers: 2,
      log: (line) => ctx.log(`${this.topic}: ${line}`),
    });
  }

  async prepare(): Promise<void> {
    await createTopic(this.ctx.clusters.source, this.topic, { partitions: this.ctx.partitions });
    await this.w.start("source");
  }

  async startLive(): Promise<void> {
    this.running = true;
    this.moving = this.moveProducers();
  }

  async stopLive(): Promise<void> {
    this.running = false;
    await this.moving;
    await this.w.stop();
  }

  async check(): Promise<Violation[]> {
    const report = await this.w.check({ examples: 5 });
    this.ctx.log(report.text.split("\n").slice(0, 3).join("\n"));
    const found = report.violations.map((v) => ({ kind: `dual write: ${v.kind} on the ${v.cluster}`, where: `${this.topic} ${v.group}`, detail: v.example }));
    return [...this.setupViolations, ...found];
  }

  async kill(): Promise<void> {
    this.running = false;
    await this.moving?.catch(() => {});
    await this.w.kill();
  }

  /** Every producer to the target, in a random order and at random moments; maybe one back to the source. */
  private async moveProducers(): Promise<void> {
    const { rng } = this.ctx;
    const order = this.w.producers.map((p) => p.index);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const moves: Array<[number, "source" | "target"]> = order.map((i) => [i, "target"]);
    if (rng.chance(0.4)) moves.push([rng.pick(order), "source"]);
    for (const [i, to] of moves) {
      await this.sleepWhileRunning(rng.int(2_000, 8_000));
      if (!this.running) return;
      try {
        await this.w.move(i, to);
      } catch (err) {
        this.setupViolations.push({ kind: "setup: a producer could not move", where: `${this.topic} producer ${i}`, detail: `to the ${to}: ${(err as Error).message.split("\n")[0]}` });
        this.ctx.log(`${this.topic}: moving producer ${i} to the ${to} failed: ${(err as Error).message.split("\n")[0]}`);
      }
    }
  }

  private async sleepWhileRunning(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (this.running && Date.now() < until) await Bun.sleep(200);
  }
}
