/**
 * Workload "transactional": several of Kafka's TransactionalMessageCopier instances (transactions
 * of 37 records, about a third aborted at random) copy their own input topic into the linked
 * topic at once, so their transactions interleave in every partition. They copy a backlog before
 * klink starts and keep copying, in rounds, what VerifiableProducers write to their inputs while
 * klink runs. Every acknowledged input record must be in the linked topic once (committed), in
 * its input partition (the copier writes input partition p to output partition p), on both
 * clusters; exact mode. Input values are unique (a value prefix per producer instance).
 */
import { createTopic, transactionalMessageCopier, verifiableProducer, type ToolProcess, type VerifiableTool } from "../harness/tools.ts";
import { uniqueName } from "../helpers.ts";
import type { Expected } from "./acked-oracle.ts";
import { checkExactMirror } from "./mirror-check.ts";
import { ackSummary, ackedBy } from "./verifiable-acks.ts";
import type { Violation } from "./violations.ts";
import type { Workload, WorkloadContext } from "./workload.ts";

const TRANSACTION_SIZE = 37;
const COPIER_TIMEOUT_MS = 180_000;
const FINAL_ATTEMPTS = 5;

export class TransactionalWorkload implements Workload {
  readonly name = "transactional";
  readonly offsets = "exact";
  readonly topic = uniqueName("nem-tx");
  readonly topics = [this.topic];
  private readonly inputs: string[];
  private readonly expected: Expected[] = [];
  private readonly producers: VerifiableTool[] = [];
  private readonly copiers = new Set<ToolProcess>();
  private loops: Promise<void>[] = [];
  private running = false;
  private rounds = 0;
  private failedRounds = 0;
  private readonly setupViolations: Violation[] = [];

  constructor(private readonly ctx: WorkloadContext) {
    this.inputs = Array.from({ length: ctx.rng.int(2, 3) }, (_, i) => `${this.topic}-in${i}`);
  }

  async prepare(): Promise<void> {
    const { clusters, partitions, rng, log } = this.ctx;
    for (const t of [this.topic, ...this.inputs]) await createTopic(clusters.source, t, { partitions });
    const before = await Promise.all(this.inputs.map((topic, i) => verifiableProducer(clusters.source, { topic, maxMessages: rng.int(300, 1_500), valuePrefix: 100 + i })));
    await Promise.all(before.map((p) => p.exited));
    for (const p of before) this.expect(p);
    log(`${this.topic}: inputs ${this.inputs.join(", ")} filled (${before.map(ackSummary).join("; ")}); ${this.inputs.length} copiers copy them before klink starts`);
    await this.finalRound("before klink starts");
  }

  async startLive(): Promise<void> {
    const { clusters, rng } = this.ctx;
    this.running = true;
    for (const [i, topic] of this.inputs.entries()) {
      this.producers.push(await verifiableProducer(clusters.source, { topic, maxMessages: -1, throughput: rng.int(20, 100), valuePrefix: 200 + i }));
    }
    this.loops = this.inputs.map((_, i) => this.copyInRounds(i));
  }

  async stopLive(): Promise<void> {
    for (const p of this.producers) {
      await p.stop("SIGTERM");
      await p.exited;
      this.expect(p);
    }
    this.running = false;
    await Promise.all(this.loops);
    this.ctx.log(`${this.topic}: live writers stopped (${this.producers.map(ackSummary).join("; ")}); ${this.rounds} copier rounds while klink copied, ${this.failedRounds} failed`);
    await this.finalRound("after the live phase");
  }

  async check(): Promise<Violation[]> {
    return [...this.setupViolations, ...(await checkExactMirror(this.ctx.clusters, this.topic, { compacted: false, expected: this.expected, idOf: (r) => r.value, log: this.ctx.log }))];
  }

  async kill(): Promise<void> {
    this.running = false;
    await Promise.all([...this.producers, ...this.copiers].map((p) => p.stop("SIGKILL")));
    await Promise.all(this.loops);
  }

  /** What an input producer had acknowledged; its offsets are the input's, so only the partition carries over. */
  private expect(p: VerifiableTool): void {
    for (const e of ackedBy(p)) this.expected.push({ id: e.id, partition: e.partition });
  }

  /** One copier run of input `i`; its exit code (it ends once it has copied what its input held when it started). */
  private async copy(i: number): Promise<number> {
    const { clusters } = this.ctx;
    const t = await transactionalMessageCopier(clusters.source, {
      inputTopic: this.inputs[i]!, outputTopic: this.topic, transactionalId: `${this.topic}-copier${i}`, group: `${this.topic}-copier${i}`,
      transactionSize: TRANSACTION_SIZE, randomAborts: true,
    }, { timeoutMs: COPIER_TIMEOUT_MS });
    this.copiers.add(t);
    const code = await t.exited;
    this.copiers.delete(t);
    if (code !== 0) this.ctx.log(`${this.topic}: copier ${i} (pid ${t.pid}) exited with ${code}: ${t.stderr().trim().split("\n").slice(-2).join(" | ")}`);
    return code;
  }

  private async copyInRounds(i: number): Promise<void> {
    while (this.running) {
      const code = await this.copy(i);
      this.rounds++;
      if (code !== 0) this.failedRounds++;
      await Bun.sleep(this.ctx.rng.int(500, 3_000));
    }
  }

  /** All copiers at once, each until it has copied everything (a failed run, e.g. across a broker restart, runs again). */
  private async finalRound(when: string): Promise<void> {
    await Promise.all(this.inputs.map(async (_, i) => {
      for (let attempt = 1; attempt <= FINAL_ATTEMPTS; attempt++) if ((await this.copy(i)) === 0) return;
      this.setupViolations.push({ kind: "setup: a copier never finished", where: `${this.topic} copier ${i}`, detail: `${FINAL_ATTEMPTS} runs ${when} failed; records of ${this.inputs[i]} may be missing on both clusters` });
    }));
  }
}
