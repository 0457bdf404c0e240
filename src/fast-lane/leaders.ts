/**
 * Where each partition's leader is, per cluster, for the fast lane's requests: asked with a
 * Metadata request on first use and forgotten when a request to it fails, so the next one asks
 * again (a leader moved or died).
 */
import type { GroupClient } from "../group/index.ts";
import { errorName } from "../group/errors.ts";
import type { BrokerAddress } from "../group/settings.ts";
import { Metadata } from "./messages.ts";

export interface LanePartition {
  topic: string;
  partition: number;
}

export const partitionKey = (p: LanePartition) => `${p.topic}\u0000${p.partition}`;

/** No metadata for the partition, or no leader now: the lane asks again on its next round. */
export class NoLeaderError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class Leaders {
  private readonly known = new Map<string, BrokerAddress>();

  constructor(readonly client: GroupClient) {}

  async of(p: LanePartition): Promise<BrokerAddress> {
    const key = partitionKey(p);
    const cached = this.known.get(key);
    if (cached) return cached;
    const conn = await this.client.anyBroker();
    const r = await conn.request(Metadata, { topics: [{ name: p.topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false, includeClusterAuthorizedOperations: false });
    const topic = r.topics.find((t) => t.name === p.topic);
    if (!topic || topic.errorCode) {
      const code = errorName(topic?.errorCode ?? 3);
      throw new NoLeaderError(code, `no metadata for ${p.topic}: ${code}`);
    }
    for (const part of topic.partitions) {
      const broker = r.brokers.find((b) => b.nodeId === part.leaderId);
      if (broker) this.known.set(partitionKey({ topic: p.topic, partition: part.partitionIndex }), { host: broker.host, port: broker.port });
    }
    const address = this.known.get(key);
    if (!address) throw new NoLeaderError("LEADER_NOT_AVAILABLE", `${p.topic}[${p.partition}] has no leader now`);
    return address;
  }

  forget(p: LanePartition): void {
    this.known.delete(partitionKey(p));
  }
}
