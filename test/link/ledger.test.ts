/**
 * The Ledger's bookkeeping without clusters (src/link/ledger.ts): the offset queue, how a reader's
 * offset is classified against the other lane's writes (skip a copy, copy an original, wait while
 * a delivery report is outstanding), where a lane resumes, and what a flush stores.
 */
import { describe, expect, test } from "bun:test";
import { Ledger, OffsetQueue, Lanes, type Verdict } from "../../src/link/ledger.ts";
import { stateKey } from "../../src/link/partition/state.ts";
import type { Store, StoreWrite } from "../../plugins/plugin.ts";

const queueOf = (...offsets: number[]) => {
  const q = new OffsetQueue();
  for (const o of offsets) q.push(o);
  return q;
};

describe("OffsetQueue", () => {
  test("empty: no first, nothing to shift, every offset absent", () => {
    const q = new OffsetQueue();
    expect([q.length, q.first(), q.shift(), q.firstAbsentFrom(7)]).toEqual([0, undefined, undefined, 7]);
  });

  test("first in, first out", () => {
    const q = queueOf(3, 4, 9);
    expect([q.length, q.first()]).toEqual([3, 3]);
    expect([q.shift(), q.shift()]).toEqual([3, 4]);
    q.push(12);
    expect([q.length, q.first(), q.shift(), q.shift(), q.shift(), q.length]).toEqual([2, 9, 9, 12, undefined, 0]);
  });

  test.each([
    // queue, from, the smallest offset ≥ from not in the queue
    [[], 5, 5],
    [[3, 4, 5, 8], 0, 0],
    [[3, 4, 5, 8], 3, 6],
    [[3, 4, 5, 8], 4, 6],
    [[3, 4, 5, 8], 6, 6],
    [[3, 4, 5, 8], 8, 9],
    [[3, 4, 5, 8], 9, 9],
    [[3, 5], 3, 4],
  ])("firstAbsentFrom: queue %p from %p is %p", (offsets, from, expected) => {
    expect(queueOf(...offsets).firstAbsentFrom(from)).toBe(expected);
  });

  test("firstAbsentFrom does not count offsets already shifted", () => {
    const q = queueOf(3, 4, 5);
    q.shift();
    expect([q.firstAbsentFrom(3), q.firstAbsentFrom(4)]).toEqual([3, 6]);
  });

  test("after many shifts the queue compacts and keeps its order", () => {
    const q = new OffsetQueue();
    const backing = () => (q as unknown as { items: number[] }).items.length; // the array behind the queue
    for (let o = 0; o < 10_000; o++) q.push(o);
    const shifted: number[] = [];
    for (let i = 0; i < 9_000; i++) {
      shifted.push(q.shift()!);
      if (i % 3 === 0) q.push(10_000 + i / 3); // pushes between shifts, across each compaction
    }
    expect(shifted).toEqual(Array.from({ length: 9_000 }, (_, i) => i));
    expect(backing()).toBeLessThan(10_000); // the shifted part was dropped
    expect([q.length, q.first(), q.firstAbsentFrom(9_000)]).toEqual([4_000, 9_000, 13_000]);
    const rest: number[] = [];
    for (let v = q.shift(); v !== undefined; v = q.shift()) rest.push(v);
    expect(rest).toEqual(Array.from({ length: 4_000 }, (_, i) => 9_000 + i));
  });
});

/** Stores nothing; records the writes a flush makes. */
function recordingStore(): Store & { writes: StoreWrite[][] } {
  const writes: StoreWrite[][] = [];
  const none = () => Promise.reject(new Error("not used by the Ledger"));
  return { location: "memory", writes, write: async (w) => void writes.push(w), get: none, topics: none, groups: none, partitions: none, seek: none, last: none, offsetMap: none, close: async () => {} };
}

/**
 * One partition in dual write, seen from a reader that meets `offset` and asks the lane that
 * writes its cluster: the Router (reading the target) asks the Fetcher's lane, the Fetcher
 * (reading the source) asks the Router's lane. `writer` sets up that lane through the Ledger:
 * `sent` forwards the next record, `acked(o)` is the oldest in-flight record's delivery report at `o`.
 */
type Setup = (writer: { sent: () => void; acked: (writeOffset: number) => void }) => void;
const directions = [
  { reader: "Router", classify: (p: Lanes, o: number) => p.classifyTarget(o), writerOf: (p: Lanes) => p.fetch },
  { reader: "Fetcher", classify: (p: Lanes, o: number) => p.classifySource(o), writerOf: (p: Lanes) => p.route },
] as const;

function partitionWith(direction: (typeof directions)[number], setup: Setup) {
  const ledger = new Ledger(recordingStore());
  const p = new Lanes("orders", 0, 1_000, 2_000);
  ledger.add(p);
  const writer = direction.writerOf(p);
  const readOffsets = writer.inFlight;
  setup({
    sent: () => ledger.sent(writer, writer.next),
    acked: (writeOffset) => ledger.acknowledged(p, writer, readOffsets.first()!, writeOffset),
  });
  return { p, writer, classify: (o: number) => direction.classify(p, o) };
}

const cases: Array<[string, Setup, number, Verdict]> = [
  // what the writing lane did, the offset the reader meets, the verdict
  ["it wrote nothing: an original", () => {}, 0, "copy"],
  ["its delivery report gave this offset: its copy", (w) => (w.sent(), w.acked(7)), 7, "skip"],
  ["nothing in flight, the offset above all it wrote: an original", (w) => (w.sent(), w.acked(5)), 6, "copy"],
  ["nothing in flight, the offset between two of its writes: an original", (w) => (w.sent(), w.acked(5), w.sent(), w.acked(9)), 7, "copy"],
  ["a write in flight, none acknowledged: maybe its copy, wait", (w) => w.sent(), 0, "wait"],
  ["a write in flight, the last acknowledged below the offset: wait", (w) => (w.sent(), w.acked(5), w.sent()), 6, "wait"],
  ["a write in flight, one acknowledged above the offset: an original (what is in flight lands higher)", (w) => (w.sent(), w.acked(7), w.sent(), w.acked(9), w.sent()), 8, "copy"],
  ["a write in flight, its own offset acknowledged: its copy", (w) => (w.sent(), w.acked(7), w.sent()), 7, "skip"],
];

for (const direction of directions) {
  describe(`the ${direction.reader} asks the other lane`, () => {
    test.each(cases)("%s", (_, setup, offset, verdict) => {
      expect(partitionWith(direction, setup).classify(offset)).toBe(verdict);
    });

    test("a skip takes the entry: the offset is not skipped twice", () => {
      const { writer, classify } = partitionWith(direction, (w) => (w.sent(), w.acked(7)));
      expect(classify(7)).toBe("skip");
      expect(writer.wrote.length).toBe(0);
      expect(classify(7)).toBe("copy");
    });

    test("entries below the offset were passed without being seen (retention deleted them): dropped, nothing skipped", () => {
      const { writer, classify } = partitionWith(direction, (w) => (w.sent(), w.acked(3), w.sent(), w.acked(4), w.sent(), w.acked(8)));
      expect(classify(6)).toBe("copy");
      expect([writer.wrote.length, writer.wrote.first()]).toEqual([1, 8]); // 3 and 4 dropped, 8 still ahead
      expect(classify(8)).toBe("skip");
    });

    test("a wait ends with the delivery report: skip when it gave this offset, copy when it landed higher", () => {
      let ack!: (o: number) => void;
      let send!: () => void;
      const { classify } = partitionWith(direction, (w) => ((ack = w.acked), (send = w.sent), w.sent(), w.sent()));
      expect(classify(10)).toBe("wait");
      ack(10);
      expect(classify(10)).toBe("skip");
      expect(classify(11)).toBe("wait"); // the second write is still in flight
      ack(12);
      expect(classify(11)).toBe("copy"); // an original: the in-flight write landed above it
      send();
      expect(classify(12)).toBe("skip");
      expect(classify(13)).toBe("wait");
    });
  });
}

test("Lane.position: where a restart resumes (everything below it is decided and, if copied, acknowledged)", () => {
  const ledger = new Ledger(recordingStore());
  const p = new Lanes("orders", 0, 40, 0);
  const lane = p.fetch;
  const steps: Array<[string, () => void, number]> = [
    ["new: its start", () => {}, 40],
    ["40 and 41 forwarded, in flight: 40", () => (ledger.sent(lane, 40), ledger.sent(lane, 41)), 40],
    ["40 acknowledged: 41", () => ledger.acknowledged(p, lane, 40, 500), 41],
    ["42 skipped while 41 is in flight: still 41", () => ledger.skipped(lane, 42), 41],
    ["41 acknowledged: 43, past the skipped 42", () => ledger.acknowledged(p, lane, 41, 501), 43],
    ["43 and 44 forwarded, 43 acknowledged: 44", () => (ledger.sent(lane, 43), ledger.sent(lane, 44), ledger.acknowledged(p, lane, 43, 502)), 44],
    ["44's write failed, 45 forwarded and acknowledged after it: stays before the failed 44", () => ((lane.failed = true), ledger.sent(lane, 45), ledger.acknowledged(p, lane, 45, 503)), 44],
  ];
  for (const [step, act, position] of steps) {
    act();
    expect([step, lane.position()]).toEqual([step, position]);
  }
});

test("flush stores the noted changes, the acknowledged rows and both lanes' positions in one write, and nothing when nothing moved", async () => {
  const store = recordingStore();
  const ledger = new Ledger(store);
  const p = new Lanes("orders", 2, 100, 50);
  ledger.add(p);
  ledger.sent(p.fetch, 100);
  ledger.sent(p.fetch, 101);
  ledger.acknowledged(p, p.fetch, 100, 7); // source 100 → target 7
  ledger.sent(p.route, 50);
  ledger.acknowledged(p, p.route, 50, 102); // target 50 → source 102
  ledger.note({ topic: "orders", state: "dual-write" });
  expect(ledger.pending()).toBe(3);
  await ledger.flush(true);
  expect(store.writes).toEqual([
    [
      { topic: "orders", state: "dual-write" },
      {
        offsets: [
          { topic: "orders", partition: 2, sourceOffset: 100, targetOffset: 7, origin: "source" },
          { topic: "orders", partition: 2, sourceOffset: 102, targetOffset: 50, origin: "target" },
        ],
      },
      { put: stateKey.lanePosition("fetch", "orders", 2), value: "101" }, // 101 in flight
      { put: stateKey.lanePosition("route", "orders", 2), value: "51" },
    ],
  ]);
  expect(ledger.pending()).toBe(0);
  await ledger.flush(true);
  await ledger.flush(false);
  expect(store.writes.length).toBe(1);
});
