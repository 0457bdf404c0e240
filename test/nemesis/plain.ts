/**
 * Workload "plain": keyed records from Kafka's VerifiableProducer, written to the source before
 * klink starts (a backlog) and while it copies; exact mode.
 */
import { createTopic, verifiableProducer, type VerifiableTool } from "../harness/tools.ts";
import { uniqueName } from "../helpers.ts";
import type { Expected } from "./acked-oracle.ts";
import { checkExactMirror } from "./mirror-check.ts";
import { ackSummary, ackedBy } from "./verifiable-acks.ts";
import type { Violation } from "./violations.ts";
import type { Workload, WorkloadContext } from "./workload.ts";

export class PlainWorkload implements Workload {
  readonly name = "plain";
  readonly offsets = "exact";
  readonly topic = uniqueName("nem-plain");
  readonly topics = [this.topic];
  private readonly expected: Expected[] = [];
  private live: VerifiableTool | null = null;

  constructor(private readonly ctx: WorkloadContext) {}

  async prepare(): Promise<void> {
    const { clusters, partitions, rng, log } = this.ctx;
    await createTopic(clusters.source, this.topic, { partitions });
    const before = await verifiableProducer(clusters.source, { topic: this.topic, maxMessages: rng.int(1_000, 5_000), valuePrefix: 1, repeatingKeys: 100 });
    await before.exited;
    this.expected.push(...ackedBy(before));
    log(`${this.topic}: written before klink starts: ${ackSummary(before)}`);
  }

  async startLive(): Promise<void> {
    const { clusters, rng } = this.ctx;
    this.live = await verifiableProducer(clusters.source, { topic: this.topic, maxMessages: -1, throughput: rng.int(50, 300), valuePrefix: 2, repeatingKeys: 100 });
  }

  async stopLive(): Promise<void> {
    const live = this.live!;
    await live.stop("SIGTERM");
    await live.exited;
    this.expected.push(...ackedBy(live));
    this.ctx.log(`${this.topic}: written while klink copied: ${ackSummary(live)}`);
  }

  check(): Promise<Violation[]> {
    return checkExactMirror(this.ctx.clusters, this.topic, { compacted: false, expected: this.expected, idOf: (r) => r.value, log: this.ctx.log });
  }

  async kill(): Promise<void> {
    await this.live?.stop("SIGKILL");
  }
}
