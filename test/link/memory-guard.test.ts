/** limits.memory's pause and resume (src/link/memory-guard.ts): pure, on a fake clock and a fake RSS. */
import { test, expect } from "bun:test";
import { MemoryGuard, type MemoryProbe } from "../../src/link/memory-guard.ts";

const MiB = 2 ** 20;

/** A probe whose RSS the test sets; `release` hands back `releasable` bytes. */
function fake() {
  const state = { now: 0, rss: 0, releasable: 0, releases: 0 };
  const probe: MemoryProbe = {
    now: () => state.now,
    rss: () => state.rss,
    release: () => {
      state.releases++;
      state.rss -= state.releasable;
      state.releasable = 0;
    },
  };
  return { state, probe };
}

/** Advances the clock by `ms` and asks the guard; returns its answer as a word. */
function step(guard: MemoryGuard, state: { now: number }, ms = 100): string {
  state.now += ms;
  const a = guard.check();
  return a ? `${a.action}${a.stuck ? " (stuck)" : ""}` : "-";
}

test("pauses above 90% of the limit and resumes only below 70%: no flapping in between", () => {
  const { state, probe } = fake();
  const guard = new MemoryGuard(1000 * MiB, probe);
  state.rss = 800 * MiB;
  expect(step(guard, state)).toBe("-");
  state.rss = 901 * MiB;
  expect(step(guard, state)).toBe("pause");
  expect(guard.paused).toBe(true);
  for (const mib of [850, 750, 701, 880, 720]) {
    state.rss = mib * MiB;
    expect(step(guard, state)).toBe("-"); // between the marks: stays paused
  }
  state.rss = 699 * MiB;
  expect(step(guard, state)).toBe("resume");
  expect(guard.paused).toBe(false);
  state.rss = 890 * MiB;
  expect(step(guard, state, 2000)).toBe("-"); // between the marks: stays resumed
});

test("measures at most every 100 ms", () => {
  const { state, probe } = fake();
  const guard = new MemoryGuard(1000 * MiB, probe);
  state.rss = 950 * MiB;
  expect(step(guard, state)).toBe("pause");
  state.rss = 100 * MiB;
  expect(step(guard, state, 50)).toBe("-");
  expect(step(guard, state, 50)).toBe("resume");
});

test("freed memory is handed back before pausing: no pause when that is enough", () => {
  const { state, probe } = fake();
  const guard = new MemoryGuard(1000 * MiB, probe);
  state.rss = 950 * MiB;
  state.releasable = 300 * MiB;
  expect(step(guard, state)).toBe("-");
  expect(state.releases).toBe(1);
  expect(guard.paused).toBe(false);
});

test("while paused, freed memory is handed back every second until RSS falls below the low mark", () => {
  const { state, probe } = fake();
  const guard = new MemoryGuard(1000 * MiB, probe);
  state.rss = 950 * MiB;
  expect(step(guard, state)).toBe("pause");
  expect(state.releases).toBe(1);
  state.releasable = 400 * MiB; // the dropped prefetch queue, freed by librdkafka meanwhile
  expect(step(guard, state)).toBe("-"); // released less than a second ago
  expect(step(guard, state, 1000)).toBe("resume");
  expect(state.releases).toBe(2);
  expect(state.rss).toBe(550 * MiB);
});

test("a pause that frees nothing ends after 5 s (stuck), and fetching then stays on for 5 s", () => {
  const { state, probe } = fake();
  const guard = new MemoryGuard(1000 * MiB, probe);
  state.rss = 950 * MiB;
  expect(step(guard, state)).toBe("pause");
  const seen: string[] = [];
  for (let t = 0; t < 4900; t += 100) seen.push(step(guard, state));
  expect(seen.every((s) => s === "-")).toBe(true);
  expect(step(guard, state)).toBe("resume (stuck)");
  for (let t = 0; t < 4900; t += 100) expect(step(guard, state)).toBe("-");
  expect(step(guard, state, 200)).toBe("pause");
});

test("after a resume fetching stays on for at least 1 s, so that something is read between pauses", () => {
  const { state, probe } = fake();
  const guard = new MemoryGuard(1000 * MiB, probe);
  state.rss = 950 * MiB;
  expect(step(guard, state)).toBe("pause");
  state.rss = 500 * MiB;
  expect(step(guard, state)).toBe("resume");
  state.rss = 990 * MiB;
  for (let t = 0; t < 900; t += 100) expect(step(guard, state)).toBe("-");
  expect(step(guard, state, 200)).toBe("pause");
});
