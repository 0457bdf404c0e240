/**
 * The Store contract of plugins/plugin.ts as one suite that every storage plugin runs (the shape
 * of Hono's `runTest({ newRouter })`): a test file per plugin passes a way to open new state and
 * to open that state again, and the suite checks what klink relies on:
 *
 *   - a write's changes are applied whole (all or none) and in their order, and are there after
 *     reopening (read-only and for writing);
 *   - `get`/`put`, a null value deleting the key; topics(), groups(), partitions() keep the last state;
 *   - the offset map: `seek` from either side (among the rows at or after the offset, the lowest
 *     offset on the other side; null when there is none), `last` with and without an origin,
 *     `offsetMap` pages in source and in target order, also where dual write made the orders differ;
 *   - writes issued concurrently are applied in call order, a failing one changing nothing;
 *   - a read-only open cannot write.
 *
 * What differs by design (one writer: refused or fenced; where the state lives) stays in each
 * plugin's own tests.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { OffsetMapRow, Store, StoreWrite } from "../../plugins/plugin.ts";

export interface StoreUnderTest {
  /** New, empty state, opened for writing. */
  newStore(): Promise<Store>;
  /** Opens the state of `store` again; the suite closes `store` first. */
  reopen(store: Store, options: { readOnly: boolean }): Promise<Store>;
  /** A test's timeout (a store on a cluster needs seconds to open). */
  timeoutMs?: number;
}

type Side = "source" | "target";
type Origin = OffsetMapRow["origin"];

export function runStoreConformance(name: string, under: StoreUnderTest): void {
  const timeout = under.timeoutMs ?? 30_000;
  /** Stores opened by the current test and not closed by it: closed after it, also when it fails. */
  const open = new Set<Store>();
  afterEach(async () => {
    for (const s of open) await s.close().catch(() => {});
    open.clear();
  });
  const newStore = async () => remember(await under.newStore());
  const remember = (s: Store) => (open.add(s), s);
  const close = async (s: Store) => {
    open.delete(s);
    await s.close();
  };
  /** Closes `store` and opens its state again. */
  const reopen = async (store: Store, readOnly: boolean) => {
    await close(store);
    return remember(await under.reopen(store, { readOnly }));
  };
  /**
   * Runs `expectState` on `store`, then on the state reopened read-only and reopened for
   * writing; returns the last (writable) one.
   */
  const everywhere = async (store: Store, expectState: (s: Store) => Promise<void>): Promise<Store> => {
    await expectState(store);
    const readOnly = await reopen(store, true);
    await expectState(readOnly);
    const writable = await reopen(readOnly, false);
    await expectState(writable);
    return writable;
  };

  describe(`Store conformance: ${name}`, () => {
    test("a write's changes apply in their order: the last put of a key wins, a null value deletes it", async () => {
      let store = await newStore();
      await store.write([{ put: "never-set", value: null }]); // deleting a missing key changes nothing
      await store.write([
        { put: "a", value: "1" },
        { put: "b", value: "x" },
        { put: "a", value: "2" },
        { put: "b", value: null },
        { put: "c", value: "gone" },
      ]);
      await store.write([{ put: "c", value: null }, { put: "d", value: "deleted, then set again" }, { put: "d", value: null }, { put: "d", value: "4" }]);
      store = await everywhere(store, async (s) => {
        expect(await s.get("a")).toBe("2");
        expect(await s.get("b")).toBeNull();
        expect(await s.get("c")).toBeNull();
        expect(await s.get("d")).toBe("4");
        expect(await s.get("never-set")).toBeNull();
      });
      await close(store);
    }, timeout);

    test("keys and values are kept as given: empty, slashes, non-ASCII, 100 kB", async () => {
      let store = await newStore();
      const values: Array<[string, string]> = [
        ["empty", ""],
        ["", "the empty key"],
        ["fetch.position.orders/with/slashes.0", "12"],
        ["grüße/🚀", "ünïcödé ✓ 🚀"],
        ["json", JSON.stringify({ a: [1, "two"], b: null })],
        ["big", "x".repeat(100_000)],
      ];
      await store.write(values.map(([put, value]) => ({ put, value })));
      store = await everywhere(store, async (s) => {
        for (const [key, value] of values) expect([key, await s.get(key)]).toEqual([key, value]);
      });
      await close(store);
    }, timeout);

    test("topics(), groups() and partitions() give each one's last state; detail defaults to null; updatedAt is the time of the write", async () => {
      let store = await newStore();
      const before = Date.now();
      await store.write([
        { topic: "orders", state: "mirroring", detail: "started" },
        { topic: "payments", state: "mirroring" },
        { group: "billing", state: "watching", detail: "3 members on the source" },
        { group: "team/äpp 🚀", state: "fenced", detail: "" },
        { partition: { topic: "orders", partition: 10 }, mode: "exact", sinceOffset: 0 },
        { partition: { topic: "orders", partition: 2 }, mode: "exact", sinceOffset: 0, detail: "identical" },
        { partition: { topic: "payments", partition: 0 }, mode: "exact", sinceOffset: 7 },
      ]);
      await store.write([
        { topic: "orders", state: "dual-write" }, // no detail: null, not the old one
        { group: "billing", state: "handed-off", detail: "0 members on the source" },
        { partition: { topic: "orders", partition: 2 }, mode: "translate", sinceOffset: 500, detail: "hole at 500" },
        // offset-map rows alone are no partition state
        { offsets: [{ topic: "refunds", partition: 0, sourceOffset: 0, targetOffset: 0, origin: "source" }] },
      ]);
      const after = Date.now();
      store = await everywhere(store, async (s) => {
        const topics = await s.topics();
        expect(byName(topics, (t) => t.topic).map(({ topic, state, detail }) => ({ topic, state, detail }))).toEqual([
          { topic: "orders", state: "dual-write", detail: null },
          { topic: "payments", state: "mirroring", detail: null },
        ]);
        const groups = await s.groups();
        expect(byName(groups, (g) => g.group).map(({ group, state, detail }) => ({ group, state, detail }))).toEqual([
          { group: "billing", state: "handed-off", detail: "0 members on the source" },
          { group: "team/äpp 🚀", state: "fenced", detail: "" },
        ]);
        const partitions = await s.partitions();
        expect(byName(partitions, partitionName).map(({ topic, partition, mode, sinceOffset, detail }) => ({ topic, partition, mode, sinceOffset, detail }))).toEqual([
          { topic: "orders", partition: 2, mode: "translate", sinceOffset: 500, detail: "hole at 500" },
          { topic: "orders", partition: 10, mode: "exact", sinceOffset: 0, detail: null },
          { topic: "payments", partition: 0, mode: "exact", sinceOffset: 7, detail: null },
        ]);
        expect(byName(await s.partitions("orders"), partitionName).map(partitionName)).toEqual(["orders/00002", "orders/00010"]);
        expect(await s.partitions("refunds")).toEqual([]);
        expect(await s.partitions("unknown")).toEqual([]);
        for (const t of [...topics, ...groups, ...partitions]) {
          expect(t.updatedAt).toBeGreaterThanOrEqual(before);
          expect(t.updatedAt).toBeLessThanOrEqual(after);
        }
      });
      await close(store);
    }, timeout);

    // Dual write on one partition: the Fetcher copied source originals 100, 101, 105 (after a hole)
    // and 107; the Router copied target originals 3 and 4 back to source 106 and 108. Source
    // order and target order differ at the end: source 107 → target 5, source 108 → target 4.
    const DUAL: OffsetMapRow[] = [
      row(100, 0, "source"),
      row(101, 1, "source"),
      row(105, 2, "source"),
      row(106, 3, "target"),
      row(107, 5, "source"),
      row(108, 4, "target"),
    ];
    const bySource = (s: number) => DUAL.find((r) => r.sourceOffset === s)!;
    /** Rows arrive lane by lane: the Router's batch lands below rows already stored, on both sides. */
    const writeDual = (store: Store) =>
      store.write([{ offsets: [bySource(100), bySource(101), bySource(105), bySource(107)] }]).then(() => store.write([{ offsets: [bySource(106), bySource(108)] }]));

    test("seek from either side: among the rows at or after the offset, the one with the lowest offset on the other side; null past the last row", async () => {
      let store = await newStore();
      await writeDual(store);
      const cases: Array<[Side, number, number | null]> = [
        // from, offset, the expected row's source offset
        ["source", 0, 100],
        ["source", 100, 100],
        ["source", 101, 101],
        ["source", 102, 105], // in the hole: the next record
        ["source", 106, 106],
        ["source", 107, 108], // rows 107 (→5) and 108 (→4): target 4 is lower, else the group skips it
        ["source", 108, 108],
        ["source", 109, null],
        ["target", 0, 100],
        ["target", 2, 105],
        ["target", 3, 106],
        ["target", 4, 107], // rows 4 (←108) and 5 (←107): source 107 is lower
        ["target", 5, 107],
        ["target", 6, null],
      ];
      store = await everywhere(store, async (s) => {
        for (const [from, offset, expected] of cases) {
          expect([from, offset, await s.seek(from, "dw", 3, offset)]).toEqual([from, offset, expected === null ? null : bySource(expected)]);
        }
        expect(await s.seek("source", "dw", 4, 0)).toBeNull(); // another partition
        expect(await s.seek("target", "other", 3, 0)).toBeNull(); // another topic
      });
      await close(store);
    }, timeout);

    test("last: the row with the highest offset on the side given, of one origin or of any", async () => {
      let store = await newStore();
      await writeDual(store);
      await store.write([{ offsets: [{ ...row(0, 0, "source"), partition: 4 }] }]);
      const cases: Array<[Side, Origin | undefined, number | null]> = [
        // side, origin, the expected row's source offset
        ["source", undefined, 108],
        ["source", "source", 107],
        ["source", "target", 108],
        ["target", undefined, 107],
        ["target", "source", 107],
        ["target", "target", 108],
      ];
      store = await everywhere(store, async (s) => {
        for (const [side, origin, expected] of cases) {
          expect([side, origin, await s.last(side, "dw", 3, origin)]).toEqual([side, origin, expected === null ? null : bySource(expected)]);
        }
        expect(await s.last("source", "dw", 4, "target")).toBeNull(); // partition 4 has source-origin rows only
        expect((await s.last("target", "dw", 4))?.sourceOffset).toBe(0);
        expect(await s.last("source", "dw", 5)).toBeNull();
      });
      await close(store);
    }, timeout);

    test("offsetMap pages through the rows in source order or in target order, from an offset on that side", async () => {
      let store = await newStore();
      await writeDual(store);
      const cases: Array<[Side | undefined, number, number, number[]]> = [
        // side (undefined: the default), from, limit, the expected rows' source offsets
        [undefined, 0, 100, [100, 101, 105, 106, 107, 108]],
        ["source", 0, 100, [100, 101, 105, 106, 107, 108]],
        ["source", 101, 2, [101, 105]],
        ["source", 102, 2, [105, 106]], // from inside a hole
        ["source", 107, 2, [107, 108]],
        ["source", 109, 2, []],
        ["source", 0, 0, []],
        ["target", 0, 100, [100, 101, 105, 106, 108, 107]],
        ["target", 3, 2, [106, 108]],
        ["target", 5, 2, [107]],
        ["target", 6, 2, []],
      ];
      store = await everywhere(store, async (s) => {
        for (const [side, from, limit, expected] of cases) {
          const rows = side === undefined ? await s.offsetMap("dw", 3, from, limit) : await s.offsetMap("dw", 3, from, limit, side);
          expect([side, from, limit, rows]).toEqual([side, from, limit, expected.map(bySource)]);
        }
        expect(await s.offsetMap("dw", 4, 0, 10)).toEqual([]);
      });
      await close(store);
    }, timeout);

    test("many rows in one write, offsets beyond 2^32: paged through in either order, every row once", async () => {
      let store = await newStore();
      const BASE = 2 ** 40; // source offsets of a long-lived partition
      // translate mode: target offsets trail, a source hole every 1000 records; then a target original
      const rows = Array.from({ length: 40_000 }, (_, i): OffsetMapRow => ({ topic: "big", partition: 0, sourceOffset: BASE + i + Math.floor(i / 1000), targetOffset: 2 ** 33 + i, origin: "source" }));
      rows.push({ topic: "big", partition: 0, sourceOffset: BASE + 50_000, targetOffset: 2 ** 33 + 40_000, origin: "target" });
      await store.write([{ offsets: rows }]);
      const page = async (s: Store, side: Side) => {
        const at = (r: OffsetMapRow) => (side === "source" ? r.sourceOffset : r.targetOffset);
        const all: OffsetMapRow[] = [];
        for (let from = 0; ; ) {
          const got = await s.offsetMap("big", 0, from, 7_000, side);
          all.push(...got);
          if (got.length < 7_000) return all;
          from = at(got.at(-1)!) + 1;
        }
      };
      store = await everywhere(store, async (s) => {
        expect(await page(s, "source")).toEqual(rows);
        expect(await page(s, "target")).toEqual(rows);
        expect(await s.seek("source", "big", 0, BASE + 1000)).toEqual(rows[1000]!); // in the hole at BASE + 1000
        expect(await s.seek("target", "big", 0, 2 ** 33 + 39_999)).toEqual(rows[39_999]!);
        expect(await s.last("source", "big", 0, "source")).toEqual(rows[39_999]!);
      });
      await close(store);
    }, timeout);

    /**
     * A dual-write-like map: producers write to both clusters, the Fetcher copies source → target
     * and the Router target → source, each in its own order, with holes; rows arrive in
     * acknowledgement order, both lanes interleaved, in batches. Every answer is checked against
     * a brute-force one.
     */
    test("dual write at random: seek, last and offsetMap answer as a brute-force search does", async () => {
      let seed = 7;
      const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
      const all: OffsetMapRow[] = [];
      let sourceEnd = 1000;
      let targetEnd = 0;
      const toTarget: number[] = [];
      const toSource: number[] = [];
      while (all.length < 3000) {
        const r = random();
        if (r < 0.25) {
          if (random() < 0.1) sourceEnd++; // a hole on the source (a compacted record, an aborted one)
          toTarget.push(sourceEnd++); // an original on the source
        } else if (r < 0.45) toSource.push(targetEnd++); // an original on the target
        else if (r < 0.75 && toTarget.length) all.push({ topic: "dw", partition: 3, sourceOffset: toTarget.shift()!, targetOffset: targetEnd++, origin: "source" });
        else if (toSource.length) all.push({ topic: "dw", partition: 3, sourceOffset: sourceEnd++, targetOffset: toSource.shift()!, origin: "target" });
        if (random() < 0.05) sourceEnd++; // a transaction marker on the source
      }
      let store = await newStore();
      for (let i = 0; i < all.length; ) {
        const n = 1 + Math.floor(random() * 400);
        await store.write([{ offsets: all.slice(i, i + n) }, { put: "progress", value: String(Math.min(i + n, all.length)) }]);
        i += n;
      }
      const at = (r: OffsetMapRow, side: Side) => (side === "source" ? r.sourceOffset : r.targetOffset);
      const other = (side: Side): Side => (side === "source" ? "target" : "source");
      const sorted = (side: Side) => [...all].sort((a, b) => at(a, side) - at(b, side));
      const bruteSeek = (from: Side, offset: number) =>
        all.filter((r) => at(r, from) >= offset).reduce<OffsetMapRow | null>((best, r) => (!best || at(r, other(from)) < at(best, other(from)) ? r : best), null);
      // the orders really differ
      expect(sorted("source").map((r) => r.targetOffset)).not.toEqual(sorted("target").map((r) => r.targetOffset));

      store = await everywhere(store, async (s) => {
        for (const side of ["source", "target"] as const) {
          const end = Math.max(...all.map((r) => at(r, side))) + 2;
          for (let offset = 0; offset <= end; offset++) expect(await s.seek(side, "dw", 3, offset)).toEqual(bruteSeek(side, offset));
          expect(await s.offsetMap("dw", 3, 0, 1_000_000, side)).toEqual(sorted(side));
          expect(await s.offsetMap("dw", 3, at(sorted(side)[499]!, side) + 1, 7, side)).toEqual(sorted(side).slice(500, 507));
          for (const origin of ["source", "target", undefined] as const) {
            const candidates = sorted(side).filter((r) => origin === undefined || r.origin === origin);
            expect(await s.last(side, "dw", 3, origin)).toEqual(candidates.at(-1) ?? null);
          }
        }
        expect(await s.get("progress")).toBe(String(all.length));
      });
      await close(store);
    }, timeout * 3);

    test("writes issued together are applied in call order; one that fails changes nothing, the others apply", async () => {
      let store = await newStore();
      await store.write([{ offsets: [row(0, 0, "source")] }]);
      const writes: StoreWrite[][] = [];
      for (let i = 1; i <= 20; i++) {
        writes.push([
          { put: "k", value: String(i) },
          { topic: "orders", state: i % 2 ? "mirroring" : "dual-write", detail: `write ${i}` },
          { offsets: [row(i, i, "source")] },
        ]);
      }
      // write 11 reuses source offset 0: refused as a whole
      writes[10] = [{ put: "k", value: "from the failing write" }, { put: "only-in-11", value: "x" }, { offsets: [row(0, 100, "source")] }];
      const results = await Promise.allSettled(writes.map((w) => store.write(w)));
      expect(results.map((r) => r.status)).toEqual(writes.map((_, i) => (i === 10 ? "rejected" : "fulfilled")));
      store = await everywhere(store, async (s) => {
        expect(await s.get("k")).toBe("20");
        expect(await s.get("only-in-11")).toBeNull();
        expect((await s.topics()).map(({ state, detail }) => ({ state, detail }))).toEqual([{ state: "dual-write", detail: "write 20" }]);
        expect((await s.offsetMap("dw", 3, 0, 100)).map((r) => r.sourceOffset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
        expect(await s.seek("target", "dw", 3, 21)).toBeNull();
      });
      await close(store);
    }, timeout);

    test("a write with a row whose source or target offset already has one, or is not an offset, is refused, and nothing of it is stored", async () => {
      let store = await newStore();
      await store.write([{ put: "k", value: "1" }, { topic: "orders", state: "mirroring" }, { offsets: [row(0, 0, "source"), row(1, 1, "source")] }]);
      const refused: Array<[string, StoreWrite[]]> = [
        // the message names the side and the offset
        ["source offset 1 already has a row", [{ offsets: [row(2, 2, "source"), row(1, 5, "source")] }]],
        ["target offset 1 already has a row", [{ offsets: [row(7, 1, "target")] }]],
        ["target offset 9 already has a row", [{ offsets: [row(8, 9, "source"), row(9, 9, "target")] }]], // twice in one change
        ["source offset 8 already has a row", [{ offsets: [row(8, 8, "source")] }, { offsets: [row(8, 10, "source")] }]], // in two changes of one write
        ["source offset -1 is not an offset", [{ offsets: [row(-1, 20, "source")] }]],
        ["target offset 2.5 is not an offset", [{ offsets: [row(30, 2.5, "source")] }]],
      ];
      for (const [problem, offsets] of refused) {
        const write = store.write([{ put: "k", value: problem }, { topic: "orders", state: "dual-write" }, { partition: { topic: "dw", partition: 3 }, mode: "exact", sinceOffset: 0 }, ...offsets]);
        await expect(write).rejects.toThrow(`offset map of dw[3]: ${problem}`);
      }
      store = await everywhere(store, async (s) => {
        expect(await s.get("k")).toBe("1");
        expect((await s.topics()).map((t) => t.state)).toEqual(["mirroring"]);
        expect(await s.partitions()).toEqual([]);
        expect(await s.offsetMap("dw", 3, 0, 100)).toEqual([row(0, 0, "source"), row(1, 1, "source")]);
      });
      await close(store);
    }, timeout);

    test("after a refused write, the partitions it touched first take later writes as new ones", async () => {
      let store = await newStore();
      // The first write that names orders[0] and orders[1] is refused (target offset 0 twice).
      const refused = store.write([
        { partition: { topic: "orders", partition: 0 }, mode: "exact", sinceOffset: 0 },
        { offsets: [{ ...row(0, 0, "source"), topic: "orders", partition: 0 }, { ...row(1, 0, "source"), topic: "orders", partition: 0 }] },
        { offsets: [{ ...row(0, 0, "source"), topic: "orders", partition: 1 }] },
      ]);
      await expect(refused).rejects.toThrow("offset map of orders[0]: target offset 0 already has a row");
      await store.write([
        { partition: { topic: "orders", partition: 0 }, mode: "translate", sinceOffset: 5 },
        { offsets: [{ ...row(5, 0, "source"), topic: "orders", partition: 0 }] },
      ]);
      await store.write([{ partition: { topic: "payments", partition: 0 }, mode: "exact", sinceOffset: 0 }, { offsets: [{ ...row(9, 9, "target"), topic: "payments", partition: 0 }] }]);
      store = await everywhere(store, async (s) => {
        expect(byName(await s.partitions(), partitionName).map(({ topic, partition, mode, sinceOffset }) => ({ topic, partition, mode, sinceOffset }))).toEqual([
          { topic: "orders", partition: 0, mode: "translate", sinceOffset: 5 },
          { topic: "payments", partition: 0, mode: "exact", sinceOffset: 0 },
        ]);
        expect(await s.offsetMap("orders", 0, 0, 10)).toEqual([{ ...row(5, 0, "source"), topic: "orders", partition: 0 }]);
        expect(await s.offsetMap("orders", 1, 0, 10)).toEqual([]);
        expect(await s.offsetMap("payments", 0, 0, 10)).toEqual([{ ...row(9, 9, "target"), topic: "payments", partition: 0 }]);
      });
      await close(store);
    }, timeout);

    test("reopened for writing, the state goes on: rows written after reopening merge with those before, stored offsets stay taken", async () => {
      let store = await newStore();
      await store.write([{ offsets: [bySource(100), bySource(101), bySource(105), bySource(107)] }, { put: "k", value: "before" }]);
      store = await reopen(store, false);
      await expect(store.write([{ offsets: [row(110, 5, "target")] }])).rejects.toThrow("target offset 5 already has a row");
      await expect(store.write([{ offsets: [row(101, 9, "source")] }])).rejects.toThrow("source offset 101 already has a row");
      await store.write([{ offsets: [bySource(106), bySource(108)] }, { put: "k", value: "after" }]);
      store = await everywhere(store, async (s) => {
        expect(await s.get("k")).toBe("after");
        expect(await s.offsetMap("dw", 3, 0, 100)).toEqual(DUAL);
        expect(await s.offsetMap("dw", 3, 0, 100, "target")).toEqual([...DUAL].sort((a, b) => a.targetOffset - b.targetOffset));
        expect(await s.seek("source", "dw", 3, 107)).toEqual(bySource(108));
      });
      await close(store);
    }, timeout);

    test("a read-only open answers from the state and refuses to write; the state stays as it was", async () => {
      let store = await newStore();
      await store.write([{ put: "k", value: "v" }, { topic: "orders", state: "mirroring" }, { offsets: [row(0, 0, "source")] }]);
      const readOnly = await reopen(store, true);
      expect(await readOnly.get("k")).toBe("v");
      const attempts: StoreWrite[][] = [[{ put: "k", value: "changed" }], [{ topic: "orders", state: "promoted" }], [{ offsets: [row(1, 1, "source")] }], []];
      for (const changes of attempts) await expect(readOnly.write(changes)).rejects.toThrow("read-only");
      store = await reopen(readOnly, false);
      expect(await store.get("k")).toBe("v");
      expect((await store.topics()).map((t) => t.state)).toEqual(["mirroring"]);
      expect(await store.offsetMap("dw", 3, 0, 10)).toEqual([row(0, 0, "source")]);
      await close(store);
    }, timeout);
  });
}

/** The contract says nothing of the order of topics(), groups(), partitions(): compare them sorted. */
function byName<T>(rows: T[], name: (r: T) => string): T[] {
  return [...rows].sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
}
const partitionName = (p: { topic: string; partition: number }) => `${p.topic}/${String(p.partition).padStart(5, "0")}`;

function row(sourceOffset: number, targetOffset: number, origin: Origin): OffsetMapRow {
  return { topic: "dw", partition: 3, sourceOffset, targetOffset, origin };
}
