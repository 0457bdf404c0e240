/** Small pieces the fence tests share: producing, consuming in the background. */
import { Consumer, Producer, type ClientConfig } from "../../src/rdkafka/index.ts";
import { afterAll } from "bun:test";
import { describeGroup, GroupClient, GroupFence, type FenceEvent, type GroupFenceOptions } from "../../src/group/index.ts";
import type { KafkaCluster } from "../harness/cluster.ts";
import { runTool, stopAllTools, writeProps, type ToolEvent } from "../harness/tools.ts";
import { target, until } from "../helpers.ts";
import { groupSettings } from "./settings.ts";

/** Writes `perPartition` records to each of `partitions` partitions with this repo's producer. */
export async function produce(config: ClientConfig, topic: string, partitions: number, perPartition: number): Promise<void> {
  const p = new Producer(config);
  try {
    for (let i = 0; i < perPartition; i++) for (let partition = 0; partition < partitions; partition++) p.produce({ topic, partition, value: Buffer.from(`r${i}`) });
    await p.flush(30_000);
  } finally {
    await p.close();
  }
}

export interface Consumed {
  partition: number;
  offset: number;
  at: number;
}

/**
 * A subscribed librdkafka consumer of this repo's binding, served in the background (which also
 * lets librdkafka apply its assignments). `errors` collects error codes it reports.
 */
export function subscribeInBackground(config: ClientConfig, topic: string) {
  const consumer = new Consumer({ "auto.offset.reset": "earliest", ...config });
  consumer.subscribe([topic]);
  const records: Consumed[] = [];
  const errors: number[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const m of await consumer.consume(100, 100)) {
        if (m.errorCode === 0) records.push({ partition: m.partition, offset: m.offset, at: Date.now() });
        else if (!m.isPartitionEof) errors.push(m.errorCode);
        m.destroy();
      }
    }
  })();
  return {
    consumer,
    records,
    errors,
    /** Stops the loop and closes the consumer (it leaves the group). */
    async close() {
      stopped = true;
      await loop;
      consumer.close();
    },
  };
}

/** The first offset consumed per partition. */
export function firstOffsets(records: Array<{ partition: number; offset: number }>): Record<number, number> {
  const first: Record<number, number> = {};
  for (const r of records) if (first[r.partition] === undefined || r.offset < first[r.partition]!) first[r.partition] = r.offset;
  return first;
}

/** GroupFence.hold that records its events and is closed by `closeAll`. */
export function fenceKeeper() {
  const fences: GroupFence[] = [];
  return {
    async hold(options: Omit<GroupFenceOptions, "onEvent">): Promise<{ fence: GroupFence; events: FenceEvent[] }> {
      const events: FenceEvent[] = [];
      const fence = await GroupFence.hold({ ...options, onEvent: (e) => events.push(e) });
      fences.push(fence);
      return { fence, events };
    },
    closeAll() {
      for (const f of fences) f.close();
    },
  };
}

/**
 * What the fence tests on the target share: a fenceKeeper and DescribeGroups on the target, both
 * closed after the file's tests, with every Kafka tool they started.
 */
export function targetFenceTests() {
  const fences = fenceKeeper();
  const clients: GroupClient[] = [];
  afterAll(async () => {
    fences.closeAll();
    for (const c of clients) c.close();
    await stopAllTools();
  });
  return {
    fences,
    async describeTarget(group: string) {
      const c = new GroupClient(groupSettings(target(), "plaintext"));
      clients.push(c);
      return describeGroup(c, group);
    },
  };
}

/**
 * Kafka's VerifiableConsumer (classic protocol) with the options the harness's helper does not
 * pass: its own --assignment-strategy (default RangeAssignor) and --session-timeout (default 30 s)
 * override the same properties in a config file.
 */
export async function javaConsumer(
  c: KafkaCluster,
  o: { topic: string; groupId: string; assignor?: "RangeAssignor" | "RoundRobinAssignor" | "CooperativeStickyAssignor"; sessionTimeoutMs?: number; clientId?: string; verbose?: boolean },
) {
  const args = ["--bootstrap-server", c.bootstrap, "--topic", o.topic, "--group-id", o.groupId, "--group-protocol", "classic", "--reset-policy", "earliest"];
  if (o.assignor) args.push("--assignment-strategy", `org.apache.kafka.clients.consumer.${o.assignor}`);
  if (o.sessionTimeoutMs) args.push("--session-timeout", String(o.sessionTimeoutMs));
  if (o.verbose) args.push("--verbose");
  if (o.clientId) args.push(c.version.startsWith("3.") ? "--consumer.config" : "--command-config", writeProps(c, { "client.id": o.clientId }));
  const tool = await runTool(c.version, "org.apache.kafka.tools.VerifiableConsumer", args);
  const collected = (): ToolEvent[] =>
    tool.stdout.flatMap((l) => {
      try {
        return l.startsWith("{") ? [JSON.parse(l) as ToolEvent] : [];
      } catch {
        return [];
      }
    });
  return {
    ...tool,
    collected,
    async waitFor(pred: (e: ToolEvent) => boolean, timeoutMs = 60_000): Promise<ToolEvent> {
      let found: ToolEvent | undefined;
      try {
        await until("a matching VerifiableConsumer event", () => (found = collected().find(pred)) !== undefined, timeoutMs);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${tool.stdout.slice(-20).join("\n")}\n${tool.stderr().slice(-3000)}`);
      }
      return found!;
    },
  };
}
