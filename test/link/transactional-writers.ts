/**
 * A source workload for exact-offset tests on transactional topics: several transactional
 * producers and one plain producer write to the same partitions at once, so transactions
 * interleave; a third of the transactions abort. Every record is acknowledged before the next of
 * its producer is sent, so records of different producers really do alternate in the log.
 */
import { Producer } from "../../src/rdkafka/index.ts";
import { plain, uniqueName } from "../helpers.ts";
import type { KafkaCluster } from "../harness/cluster.ts";

export interface WriterOptions {
  cluster: KafkaCluster;
  topic: string;
  partitions: number;
  transactional: number;
  /** Also a plain (non-transactional) producer. */
  plainWriter: boolean;
  seed: number;
}

export class TransactionalWriters {
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private readonly producers: Producer[] = [];
  committed = 0;
  aborted = 0;
  private state: number;

  constructor(private readonly o: WriterOptions) {
    this.state = o.seed;
  }

  private random(): number {
    this.state = (this.state * 48271) % 2147483647;
    return this.state / 2147483647;
  }

  start(): void {
    const o = this.o;
    for (let i = 0; i < o.transactional; i++) {
      const p = new Producer(plain(o.cluster, { "transactional.id": uniqueName(`writer-${i}`), "linger.ms": 0 }));
      p.initTransactions();
      this.producers.push(p);
      this.loops.push(this.transactions(p, i));
    }
    if (o.plainWriter) {
      const p = new Producer(plain(o.cluster, { "linger.ms": 0 }));
      this.producers.push(p);
      this.loops.push(this.plainRecords(p));
    }
  }

  private async transactions(p: Producer, n: number): Promise<void> {
    for (let t = 0; this.running; t++) {
      p.beginTransaction();
      const size = 1 + Math.floor(this.random() * 12);
      const partition = Math.floor(this.random() * this.o.partitions);
      for (let i = 0; i < size; i++) {
        // Most transactions stay in one partition; some spread, as a stream processor's do.
        const to = this.random() < 0.8 ? partition : Math.floor(this.random() * this.o.partitions);
        await p.send({ topic: this.o.topic, partition: to, key: `t${n}`, value: `t${n}-${t}-${i}`, headers: [["w", `t${n}`]] });
      }
      if (this.random() < 0.33) {
        await p.abortTransaction();
        this.aborted++;
      } else {
        await p.commitTransaction();
        this.committed++;
      }
      await Bun.sleep(Math.floor(this.random() * 30));
    }
  }

  private async plainRecords(p: Producer): Promise<void> {
    for (let i = 0; this.running; i++) {
      await p.send({ topic: this.o.topic, partition: i % this.o.partitions, key: "plain", value: `plain-${i}` });
      await Bun.sleep(Math.floor(this.random() * 40));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    for (const p of this.producers) await p.close();
  }
}
