/**
 * Two fast-lane copiers that share one producer identity, as an old and a new owner of a
 * partition would (docs/workers.md, "The data under the lease"): a batch's sequence number is its
 * offset minus the identity's anchor, so a late request of the old owner — sent after the new one
 * copied on — is refused by the target broker, or recognised as the duplicate it is. The control:
 * the same late batch under an identity of its own is appended again, and the oracle (librdkafka
 * consumers reading both clusters) sees the difference.
 */
import { afterAll, expect, test } from "bun:test";
import { FastLaneError } from "../../src/fast-lane/batch-copier.ts";
import { restamp, splitBatches } from "../../src/fast-lane/record-batch.ts";
import { source, target } from "../helpers.ts";
import { exactDifferences } from "../link/exact-check.ts";
import { closeClients, copier, copyAll, end, produce, topicPair } from "./lane-helpers.ts";

afterAll(closeClients);

test("a late batch of an earlier owner with the shared identity is not written again; with an identity of its own it is", async () => {
  const topic = await topicPair("lane-shared");
  await produce(topic, 3000, "lz4", 0, source(), { "batch.num.messages": 50 });
  const p = { topic, partition: 0 };
  const shared = { ...(await copier().initProducer()), anchor: () => 0 };

  // the old owner copies a first part
  const old = copier(source(), target(), 8 * 1024, { sharedProducer: shared });
  const first = await old.copyRound(p, 0);
  const resumeAt = first.next;
  expect(resumeAt).toBeGreaterThan(0);
  expect(resumeAt).toBeLessThan(3000);
  // it has the next batch restamped and ready when it loses the partition; the request arrives late
  const { records } = await old.fetch(p, resumeAt);
  const late = splitBatches(records).batches[0]!;
  expect(late.baseOffset).toBe(resumeAt);
  restamp(records, late, shared.id, shared.epoch, resumeAt - shared.anchor());

  // the new owner resumes at the target's end with the same identity and copies everything
  expect(await end(target(), topic)).toBe(resumeAt);
  const next = copier(source(), target(), 256 * 1024, { sharedProducer: shared });
  expect((await copyAll(next, p, resumeAt)).next).toBe(3000);

  // the late request: its sequence is long past, the broker refuses it and appends nothing
  const refused = await old.produce(p, records, late).catch((e) => e);
  expect(refused).toBeInstanceOf(FastLaneError);
  expect(["OUT_OF_ORDER_SEQUENCE_NUMBER", "DUPLICATE_SEQUENCE_NUMBER"]).toContain((refused as FastLaneError).code);
  console.log(`late batch at offset ${resumeAt}: ${(refused as FastLaneError).message}`);
  // a late copy of the newest batch (within the five the broker remembers) is answered as the duplicate it is
  const tail = await old.fetch(p, 2999);
  const last = splitBatches(tail.records).batches[0]!;
  restamp(tail.records, last, shared.id, shared.epoch, last.baseOffset - shared.anchor());
  expect(await old.produce(p, tail.records, last)).toBe(last.baseOffset);
  expect(await end(target(), topic)).toBe(3000);
  expect(await exactDifferences(source(), target(), topic, 1)).toEqual([]);

  // control: the same late batch under a producer id of its own is appended at the end
  const stranger = copier();
  const own = await stranger.initProducer();
  restamp(records, late, own.id, own.epoch, 0);
  const misplaced = await stranger.produce(p, records, late).catch((e) => e);
  expect((misplaced as FastLaneError).code).toBe("OFFSET_MISMATCH");
  expect(await end(target(), topic)).toBe(3000 + late.recordCount);
  expect((await exactDifferences(source(), target(), topic, 1)).length).toBeGreaterThan(0);
}, 120_000);
