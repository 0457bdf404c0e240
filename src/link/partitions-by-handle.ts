/**
 * The per-record lookup of a consumed record's partition state, shared by the Fetcher and the
 * Router. Keyed by librdkafka's topic handle, so no string is built per record; forget() after
 * the set of partitions changes.
 */
import type { ConsumedMessage } from "../rdkafka/index.ts";

export class PartitionsByHandle<P extends { topic: string; partition: number }> {
  private byHandle = new Map<number, P[]>();
  private byName = new Map<string, P[]>();

  constructor(private readonly all: () => Iterable<P>) {}

  of(m: ConsumedMessage): P | undefined {
    const rkt = m.topicHandle;
    if (!rkt) return undefined;
    let parts = this.byHandle.get(rkt);
    if (!parts) {
      const topic = m.topic;
      parts = [];
      for (const p of this.all()) if (p.topic === topic) parts[p.partition] = p;
      this.byHandle.set(rkt, parts);
    }
    return parts[m.partition];
  }

  /** By name, for a delivery report (which names the topic; the name is the producer's cached string). */
  named(topic: string, partition: number): P | undefined {
    let parts = this.byName.get(topic);
    if (!parts) {
      parts = [];
      for (const p of this.all()) if (p.topic === topic) parts[p.partition] = p;
      this.byName.set(topic, parts);
    }
    return parts[partition];
  }

  /** Partitions were added: look the handles up again. */
  forget(): void {
    this.byHandle = new Map();
    this.byName = new Map();
  }
}
