/**
 * The worker group's assignment rounds (no cluster): balanced, sticky, and cooperative — no round
 * gives a partition to one worker while another worker that is still a member owns it.
 */
import { describe, expect, test } from "bun:test";
import { assignPartitions, comparePartitions, partitionKey, splitPartitionKey, type PartitionKey } from "../../src/workers/assignment.ts";
import { assignLink, LINK_UNIT } from "../../src/workers/link-assignment.ts";

const parts = (n: number, topic = "t") => Array.from({ length: n }, (_, i) => partitionKey(topic, i));

/** Runs rounds as the group would (each worker reports what it owns) until a round changes nothing; `rounds` counts those that changed something. */
function converge(owned: Map<string, PartitionKey[]>, partitions: PartitionKey[]): { rounds: number; owned: Map<string, PartitionKey[]> } {
  for (let rounds = 1; rounds <= 10; rounds++) {
    const before = new Map([...owned].map(([m, ps]) => [m, new Set(ps)]));
    const r = assignPartitions([...owned].map(([memberId, ps]) => ({ memberId, owned: ps })), partitions);
    // cooperative: a partition goes to a new worker only if no current member owns it
    for (const [m, ps] of r.assignments) {
      for (const p of ps) for (const [other, theirs] of before) if (other !== m && theirs.has(p)) throw new Error(`round ${rounds}: ${p} given to ${m} while ${other} owns it`);
    }
    const next = new Map([...owned.keys()].map((m) => [m, r.assignments.get(m) ?? []]));
    const same = [...next].every(([m, ps]) => ps.join() === [...before.get(m)!].sort(comparePartitions).join());
    owned = next;
    if (same && r.moving.length === 0) return { rounds: rounds - 1, owned };
  }
  throw new Error("no convergence in 10 rounds");
}

function expectBalancedCover(owned: Map<string, PartitionKey[]>, partitions: PartitionKey[]) {
  const all = [...owned.values()].flat();
  expect(all.length).toBe(partitions.length);
  expect(new Set(all).size).toBe(partitions.length);
  const sizes = [...owned.values()].map((ps) => ps.length);
  expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
}

describe("worker assignment", () => {
  test("three new workers share 12 partitions 4/4/4 in one round", () => {
    const r = assignPartitions(["a", "b", "c"].map((memberId) => ({ memberId, owned: [] })), parts(12));
    expect([...r.assignments.values()].map((ps) => ps.length)).toEqual([4, 4, 4]);
    expect(new Set([...r.assignments.values()].flat()).size).toBe(12);
    expect(r.moving).toEqual([]);
  });

  test("a joining worker gets only what must move, and only in the round after its owners let go", () => {
    const a = parts(12).slice(0, 6);
    const b = parts(12).slice(6);
    const first = assignPartitions([{ memberId: "a", owned: a }, { memberId: "b", owned: b }, { memberId: "c", owned: [] }], parts(12));
    expect(first.assignments.get("c")).toEqual([]);
    expect(first.moving).toEqual(["t/4", "t/5", "t/10", "t/11"]);
    expect(first.assignments.get("a")).toEqual(a.slice(0, 4));
    const second = assignPartitions(
      [{ memberId: "a", owned: first.assignments.get("a")! }, { memberId: "b", owned: first.assignments.get("b")! }, { memberId: "c", owned: [] }],
      parts(12),
    );
    expect(second.assignments.get("c")).toEqual(["t/4", "t/5", "t/10", "t/11"]);
    expect(second.moving).toEqual([]);
  });

  test("a partition claimed by two workers stays with one of them", () => {
    const r = assignPartitions([{ memberId: "a", owned: ["t/0"] }, { memberId: "b", owned: ["t/0", "t/1"] }], parts(2));
    expect(r.assignments.get("a")).toEqual(["t/0"]);
    expect(r.assignments.get("b")).toEqual(["t/1"]);
  });

  test("partitions of a topic that is gone are dropped; names with slashes and numbers sort by number", () => {
    expect(splitPartitionKey("a/b/10")).toEqual({ topic: "a/b", partition: 10 });
    expect(["t/10", "t/2", "s/0"].sort(comparePartitions)).toEqual(["s/0", "t/2", "t/10"]);
    const r = assignPartitions([{ memberId: "a", owned: ["old/0", "t/0"] }], parts(2));
    expect(r.assignments.get("a")).toEqual(["t/0", "t/1"]);
  });

  test("random joins and leaves: never two owners, balanced and complete within two rounds", () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const partitions = [...parts(37, "orders"), ...parts(5, "audit")];
    let owned = new Map<string, PartitionKey[]>();
    let next = 0;
    for (let step = 0; step < 200; step++) {
      if (owned.size < 2 || (random() < 0.55 && owned.size < 9)) owned.set(`w${next++}`, []);
      else owned.delete([...owned.keys()][Math.floor(random() * owned.size)]!);
      const result = converge(owned, partitions);
      expect(result.rounds).toBeLessThanOrEqual(2);
      expectBalancedCover(result.owned, partitions);
      owned = result.owned;
    }
  });
});

describe("link assignment (link.spread)", () => {
  const L = LINK_UNIT;

  test("without a runner: link/0 goes to the worker with the least to let go of, and every partition a worker still claims is revoked", () => {
    const r = assignLink([{ memberId: "a", owned: ["t/0", "t/1"] }, { memberId: "b", owned: [] }]);
    expect(r.assignments.get("b")).toEqual([L]);
    expect(r.assignments.get("a")).toEqual([]);
    expect(r.elsewhere.get("b")).toBe(2); // the new runner waits until a round says 0
    const next = assignLink([{ memberId: "a", owned: [] }, { memberId: "b", owned: [L] }]);
    expect(next.elsewhere.get("b")).toBe(0);
    expect(next.assignments.get("b")).toEqual([L]);
  });

  test("the runner's units are spread, cooperatively; what it keeps and what a worker returned stay with it", () => {
    const units = parts(6);
    const runner = { memberId: "r", owned: [L, ...units], units, kept: ["t/5"] };
    const first = assignLink([runner, { memberId: "w", owned: [] }]);
    expect(first.assignments.get("w")).toEqual([]); // nothing handed over while the runner owns it
    expect(first.moving.length).toBeGreaterThan(0);
    expect(first.assignments.get("r")).toContain("t/5");
    const second = assignLink([{ ...runner, owned: first.assignments.get("r")! }, { memberId: "w", owned: [] }]);
    expect(second.assignments.get("w")).toEqual(first.moving);
    expect(second.assignments.get("r")).toContain(L);
    const lent = second.assignments.get("w")!;
    // w cannot copy one of them on: it goes back to the runner once w let go of it
    const back = assignLink([{ ...runner, owned: second.assignments.get("r")! }, { memberId: "w", owned: lent, returned: [lent[0]!] }]);
    expect(back.moving).toContain(lent[0]!);
    expect(back.assignments.get("w")).not.toContain(lent[0]!);
    expect(back.assignments.get("r")).not.toContain(lent[0]!);
    const home = assignLink([{ ...runner, owned: back.assignments.get("r")! }, { memberId: "w", owned: back.assignments.get("w")!, returned: [lent[0]!] }]);
    expect(home.assignments.get("r")).toContain(lent[0]!);
  });

  test("partitions a worker let go of cleanly in the round before are handed on marked clean; a leaving worker is given nothing", () => {
    const units = parts(4);
    const runner = { memberId: "r", owned: [L, "t/0", "t/1"], units, kept: [] };
    // w let go of t/2 and t/3 cleanly in generation 5 and leaves; x stays
    const w = { memberId: "w", owned: [], leaving: true, released: { generation: 5, partitions: ["t/2", "t/3"] } };
    const x = { memberId: "x", owned: [] };
    const next = assignLink([runner, w, x], 6);
    expect(next.assignments.get("w")).toEqual([]);
    const handedOn = [...next.assignments.get("r")!, ...next.assignments.get("x")!].filter((k) => k === "t/2" || k === "t/3");
    expect(handedOn.sort()).toEqual(["t/2", "t/3"]);
    expect([...next.clean.get("r")!, ...next.clean.get("x")!].sort()).toEqual(["t/2", "t/3"]);
    // a release said in an older round is not clean: someone may have had them since (and crashed)
    const later = assignLink([runner, w, x], 7);
    expect([...later.clean.values()].flat()).toEqual([]);
    // what a member already owned is not "given" to it: never marked clean
    const kept = assignLink([{ ...runner, owned: [L, ...units] }, { memberId: "w", owned: [], released: { generation: 5, partitions: ["t/2"] } }], 6);
    expect(kept.clean.get("r")).toEqual([]);
    // a leaving worker does not get the link either
    const noRunner = assignLink([{ memberId: "a", owned: [], leaving: true }, { memberId: "b", owned: ["t/0"] }], 3);
    expect(noRunner.assignments.get("b")).toContain(L);
    expect(noRunner.assignments.get("a")).toEqual([]);
  });

  test("random joins and leaves of workers beside a runner: no partition is ever given while another member owns it, and it settles", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const units = [...parts(20, "orders"), ...parts(3, "audit")];
    const kept = ["audit/0", "orders/7"];
    let owned = new Map<string, PartitionKey[]>([["r", [L, ...units]]]);
    let next = 0;
    for (let step = 0; step < 100; step++) {
      if (owned.size < 2 || (random() < 0.55 && owned.size < 6)) owned.set(`w${next++}`, []);
      else owned.delete([...owned.keys()].filter((m) => m !== "r")[Math.floor(random() * (owned.size - 1))]!);
      for (let round = 0; round < 4; round++) {
        const before = new Map([...owned].map(([m, ps]) => [m, new Set(ps)]));
        const r = assignLink([...owned].map(([memberId, ps]) => ({ memberId, owned: ps, ...(memberId === "r" ? { units, kept } : {}) })));
        for (const [m, ps] of r.assignments) {
          for (const p of ps) for (const [other, theirs] of before) if (other !== m && theirs.has(p)) throw new Error(`step ${step}: ${p} given to ${m} while ${other} owns it`);
        }
        owned = new Map([...owned.keys()].map((m) => [m, r.assignments.get(m) ?? []]));
      }
      const all = [...owned.values()].flat();
      expect(new Set(all).size).toBe(units.length + 1);
      for (const k of [L, ...kept]) expect(owned.get("r")).toContain(k);
    }
  });
});
