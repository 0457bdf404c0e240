/** Which errors at a topic's start set it aside to be tried again (src/link/interrupted-topics.ts) instead of ending `klink run`. */
import { expect, test } from "bun:test";
import { InterruptedTopics } from "../../src/link/interrupted-topics.ts";
import { ErrorCode, KafkaError } from "../../src/rdkafka/index.ts";

const failing = (code: number) => async (): Promise<number[]> => {
  throw new KafkaError(code, "describe configs of t");
};

test("a cluster that does not answer in time, or does not know the topic yet (a broker just restarted), sets the topic aside", async () => {
  const lines: string[] = [];
  const topics = new InterruptedTopics((line) => lines.push(line));
  expect(await topics.start("a", failing(ErrorCode.TIMED_OUT))).toEqual([]);
  expect(await topics.start("b", failing(ErrorCode.UNKNOWN_TOPIC_OR_PART))).toEqual([]);
  expect(topics.has("a") && topics.has("b")).toBe(true);
  expect(lines[1]).toContain("b: interrupted while starting: describe configs of t (UNKNOWN_TOPIC_OR_PART); trying again in 30 s");
  expect(topics.due(performance.now())).toEqual([]); // not before its time
});

test("other errors end the run, saying why", async () => {
  const topics = new InterruptedTopics(() => {});
  await expect(topics.start("c", failing(ErrorCode.TOPIC_AUTHORIZATION_FAILED))).rejects.toThrow("TOPIC_AUTHORIZATION_FAILED");
  expect(topics.has("c")).toBe(false);
  expect(await topics.start("d", async () => [1, 2])).toEqual([1, 2]);
});
