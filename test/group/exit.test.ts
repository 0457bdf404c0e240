/**
 * Nothing of the group client outlives release() or close(): a process that held a fence ends by
 * itself afterwards (no timer, socket or pending wait keeps it alive).
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { target, uniqueName, withAdmin } from "../helpers.ts";

setDefaultTimeout(60_000);

const groupModule = resolve(import.meta.dir, "../../src/group/index.ts");

/** Runs a script that holds a fence on the target, then ends it with `ending`; returns how the process ended. */
async function holdThenEnd(ending: "release" | "close"): Promise<{ code: number | null; ms: number; stdout: string; stderr: string }> {
  const topic = uniqueName("exit");
  await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  const dir = mkdtempSync(join(tmpdir(), "klink-group-exit-"));
  const script = join(dir, "hold.ts");
  writeFileSync(
    script,
    `import { GroupFence } from ${JSON.stringify(groupModule)};
const fence = await GroupFence.hold({ settings: { config: { "bootstrap.servers": ${JSON.stringify(target().bootstrap)} } }, groupId: ${JSON.stringify(uniqueName("exit-group"))}, topics: [${JSON.stringify(topic)}], protocols: ["range"], heartbeatIntervalMs: 500 });
await Bun.sleep(1500); // a few heartbeats
${ending === "release" ? "await fence.release();" : "fence.close();"}
console.log("ended", fence.state, Date.now());
`,
  );
  const proc = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "pipe" });
  const killer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(killer);
  const endedAt = Number(stdout.trim().split(" ").pop());
  return { code: proc.signalCode ? null : code, ms: Date.now() - endedAt, stdout, stderr };
}

for (const ending of ["release", "close"] as const) {
  test(`after ${ending}() the process exits by itself, at once`, async () => {
    const r = await holdThenEnd(ending);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith(`ended ${ending === "release" ? "released" : "closed"} `);
    expect(r.ms).toBeLessThan(2000);
  });
}
