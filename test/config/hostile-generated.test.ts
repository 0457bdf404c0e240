/**
 * Generated hostile input (hostile-generator.ts, seeded): each case runs dist/klink with a time
 * bound (killed after TIME_BOUND_MS: a hang) and a memory bound (its peak RSS), and must end with
 * a documented exit code, clean error lines (a problem of the file as file:line:col, else one line
 * `klink COMMAND: ...` that names the option at fault; usage may follow after a blank line), no
 * stack trace, and never the planted secret. Cases run in parallel batches; the figures are
 * printed. KLINK_FUZZ_SEED and KLINK_FUZZ_CASES change the seed and the count. Needs no cluster.
 */
import { beforeAll, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir } from "./cli.ts";
import { generate, SECRET, SECRET_ENV, VALID, type GeneratedCase } from "./hostile-generator.ts";

const REPO = resolve(import.meta.dir, "../..");
const KLINK = join(REPO, "dist/klink");
const SEED = Number(process.env.KLINK_FUZZ_SEED ?? 14);
const COUNT = Number(process.env.KLINK_FUZZ_CASES ?? 520);
const PARALLEL = 4;
/** Guards, not speed requirements: a case past them is a hang or a memory blow-up. */
const TIME_BOUND_MS = 60_000;
const MEMORY_BOUND_BYTES = 1024 * 1024 * 1024;

interface Outcome {
  c: GeneratedCase;
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  rss: number;
  killed: boolean;
}

async function runCase(c: GeneratedCase): Promise<Outcome> {
  const dir = tempDir({ "migration.yaml": c.yaml, ...c.files });
  const file = join(dir, "migration.yaml");
  const args = c.args.map((a) => a.replace(/^F$/, file).replace(/^D/, dir));
  const { KLINK_DEBUG: _, ...env } = process.env;
  const started = performance.now();
  const proc = Bun.spawn([KLINK, ...args], { cwd: dir, env: { ...env, [SECRET_ENV]: SECRET }, stdout: "pipe", stderr: "pipe" });
  let killed = false;
  const killer = setTimeout(() => ((killed = true), proc.kill("SIGKILL")), TIME_BOUND_MS);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(killer);
  const put = (s: string) => s.split(file).join("F").split(dir).join("D");
  return { c, code: proc.signalCode ? null : code, stdout: put(stdout), stderr: put(stderr), ms: performance.now() - started, rss: proc.resourceUsage()?.maxRSS ?? 0, killed };
}

/** What is wrong with one outcome, by class; empty when it is clean. */
export function violations(o: Outcome): Array<{ kind: string; detail: string }> {
  const out: Array<{ kind: string; detail: string }> = [];
  const all = `${o.stdout}\n${o.stderr}`;
  const lines = o.stderr.trimEnd().split("\n").filter((l) => l !== "");
  if (o.killed) out.push({ kind: "hang", detail: `killed after ${TIME_BOUND_MS} ms` });
  if (o.rss > MEMORY_BOUND_BYTES) out.push({ kind: "over-memory", detail: `${(o.rss / 2 ** 20).toFixed(0)} MiB` });
  if (all.includes(SECRET)) out.push({ kind: "secret printed", detail: all.split("\n").find((l) => l.includes(SECRET))!.slice(0, 300) });
  const crash = lines.find((l) => /^\s+at |KLINK_DEBUG=1 shows where|undefined is not|is not a function|Maximum call stack/.test(l));
  if (o.code === null || o.code > 2 || crash) out.push({ kind: "crash", detail: crash ?? `exit ${o.code}` });
  else if (!o.c.codes.includes(o.code)) out.push({ kind: "wrong exit code", detail: `exit ${o.code}, expected ${o.c.codes.join(" or ")}: ${lines[0] ?? ""}` });
  if (o.code === 1 || o.code === 2) {
    // the error lines: before the usage text, which follows a blank line
    const errors = o.stderr.split("\n\n")[0]!.trimEnd().split("\n");
    const positioned = errors.filter((l) => /^\S+:\d+:\d+: /.test(l));
    const oneLiners = errors.filter((l) => /^klink [\w ]+?: \S/.test(l));
    const other = errors.filter((l) => !positioned.includes(l) && !oneLiners.includes(l));
    if (other.length || oneLiners.length !== 1) out.push({ kind: "not one clean line", detail: errors.slice(0, 3).join(" | ").slice(0, 300) });
    const summary = /^klink [\w ]+?: \d+ errors? in F$/.test(oneLiners[0] ?? "");
    if (summary && positioned.filter((l) => !l.includes(": warning: ")).length === 0) out.push({ kind: "no position", detail: oneLiners[0]! });
    if (o.c.names && !(errors[0] ?? "").includes(o.c.names)) out.push({ kind: "option not named", detail: `${errors[0]} (expected ${o.c.names})` });
  }
  return out;
}

beforeAll(() => {
  if (!existsSync(KLINK)) {
    const build = Bun.spawnSync(["bash", "scripts/build.sh"], { cwd: REPO, stdout: "inherit", stderr: "inherit" });
    if (build.exitCode !== 0) throw new Error(`bash scripts/build.sh failed (exit ${build.exitCode})`);
  }
}, 600_000);

test("the config the cases start from is valid (each case's problem is its mutation)", async () => {
  const o = await runCase({ name: "valid", args: ["validate", "F"], yaml: VALID, files: { "secret.txt": `${SECRET}\n` }, codes: [0] });
  expect(o.stderr).toBe("");
  expect(o.code).toBe(0);
});

test(`${COUNT} generated hostile inputs (seed ${SEED}): documented exit code, clean lines, no stack, no secret, time and memory bounded`, async () => {
  const cases = generate(SEED, COUNT);
  const outcomes: Outcome[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) outcomes.push(await runCase(cases[next++]!));
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));

  const bad = outcomes.map((o) => ({ o, v: violations(o) })).filter((x) => x.v.length);
  const byCode = new Map<string, number>();
  for (const o of outcomes) byCode.set(`exit ${o.code ?? "signal"}`, (byCode.get(`exit ${o.code ?? "signal"}`) ?? 0) + 1);
  const byKind = new Map<string, number>();
  for (const { v } of bad) for (const k of new Set(v.map((x) => x.kind))) byKind.set(k, (byKind.get(k) ?? 0) + 1);
  const slowest = outcomes.reduce((a, b) => (b.ms > a.ms ? b : a));
  const fattest = outcomes.reduce((a, b) => (b.rss > a.rss ? b : a));
  const report = [
    `hostile input, seed ${SEED}: ${outcomes.length} cases, ${outcomes.length - bad.length} clean; ${[...byCode].sort().map(([k, n]) => `${k}: ${n}`).join(", ")}`,
    `  problems: ${["crash", "hang", "over-memory", "wrong exit code", "secret printed", "not one clean line", "no position", "option not named"].map((k) => `${k} ${byKind.get(k) ?? 0}`).join(", ")}`,
    `  slowest ${slowest.ms.toFixed(0)} ms (${slowest.c.name.slice(0, 120)}); max RSS ${(fattest.rss / 2 ** 20).toFixed(0)} MiB (${fattest.c.name.slice(0, 120)})`,
  ];
  console.log(report.join("\n"));
  const failures = bad.slice(0, 20).map(({ o, v }) => ({ case: o.c.name.slice(0, 200), args: o.c.args.join(" ").slice(0, 200), problems: v }));
  if (bad.length) {
    const saved = join(tempDir(), "failed-cases.json");
    writeFileSync(saved, JSON.stringify(bad.map(({ o, v }) => ({ ...o, v })), null, 1));
    console.log(`  every failed case, with its YAML and output: ${saved}`);
  }
  expect(failures).toEqual([]);
  expect(outcomes.length).toBe(COUNT);
}, 1_800_000);
