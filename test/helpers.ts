/** Shared helpers for tests that talk to the real clusters started by test/harness. */
import { randomUUID } from "node:crypto";
import { getCluster } from "./harness/state.ts";
import type { KafkaCluster } from "./harness/cluster.ts";
import { Admin, Consumer, type ConsumedMessage, type ClientConfig } from "../src/rdkafka/index.ts";

/** KLINK_TEST_SOURCE names another recorded cluster as the source, e.g. an old ZooKeeper-mode one (test/old-sources). */
export const source = (): KafkaCluster => getCluster(process.env.KLINK_TEST_SOURCE || "source");
export const target = (): KafkaCluster => getCluster("target");

/**
 * Topic configs for tests that write records with old CreateTime timestamps: without them the
 * broker's 7-day retention deletes those records within seconds (the harness checks every 5 s).
 */
export const KEEP_OLD_TIMESTAMPS = { "retention.ms": "-1" };

/** librdkafka settings for a cluster's PLAINTEXT listener. */
export function plain(c: KafkaCluster, extra: ClientConfig = {}): ClientConfig {
  return { "bootstrap.servers": c.bootstrap, ...extra };
}

/**
 * Polls `check` until it holds; throws naming `what` after `timeoutMs`, or at once with its output
 * when `run` (a klink under test) has exited.
 */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 90_000, run?: { exited: boolean; summary(): string }): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (run?.exited) throw new Error(`${what} did not happen: klink exited\n${run.summary()}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${run ? `\n${run.summary()}` : ""}`);
    await Bun.sleep(100);
  }
}

/** A topic name no earlier run used. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function withAdmin<T>(c: KafkaCluster, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin(plain(c));
  try {
    return await fn(admin);
  } finally {
    admin.close();
  }
}

/**
 * Reads from an assigned consumer until `count` records arrived (EOF/error events are skipped,
 * errors other than EOF fail). Every message is passed to `onMessage`, then destroyed.
 */
export async function consumeCount(consumer: Consumer, count: number, onMessage: (m: ConsumedMessage) => void, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  while (seen < count) {
    if (Date.now() > deadline) {
      const where = consumer.position(consumer.assignment()).map((p) => `${p.topic}[${p.partition}]@${p.offset}`).join(" ");
      throw new Error(`consumed ${seen} of ${count} records within ${timeoutMs} ms; positions: ${where}`);
    }
    for (const m of await consumer.consume(1000, 200)) {
      try {
        if (m.isPartitionEof) continue;
        if (m.errorCode) throw m.error;
        onMessage(m);
        seen++;
      } finally {
        m.destroy();
      }
    }
  }
}
