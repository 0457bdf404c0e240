/** The oracle of the one-writer and standby tests: both clusters read with a test consumer, record by record. */
import { expect } from "bun:test";
import { source, target } from "../helpers.ts";
import { readTopic } from "./dual-write-workload.ts";

/** Every record of `topic` on both clusters, as partition/offset/key/value lines: equal lists mean an exact copy. */
export async function bothClusters(topic: string): Promise<[string[], string[]]> {
  const lines = async (c: typeof source) =>
    (await readTopic(c(), topic)).map((r) => `${r.partition}/${r.offset} ${r.key?.toString()}=${r.value?.toString()}`).sort();
  return [await lines(source), await lines(target)];
}

/** The target is an exact copy of the source's `produced` records: each once, at its source partition and offset. */
export async function expectExactCopy(topic: string, produced: number): Promise<void> {
  const [s, t] = await bothClusters(topic);
  expect(s.length).toBe(produced);
  expect(new Set(t).size).toBe(t.length);
  expect(t).toEqual(s);
}
