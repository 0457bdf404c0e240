// npm run test:old-sources [-- VERSION...]: klink against old Kafka sources in ZooKeeper mode.
//
// For each version (default: 2.8.2 2.4.1 1.1.1 0.10.2.2) it starts ZooKeeper and a broker from Maven jars
// (test/harness/zookeeper.ts), runs the scenarios below with that cluster as the source
// (KLINK_TEST_SOURCE) and the harness's 4.4.0 target, stops the cluster by pid, and prints a
// matrix. The target must be up (`npm run kafka:up`). Too slow for CI (about 8 minutes a version).
import { startZkCluster, stopZkCluster, isOldVersion, OLD_VERSIONS } from "../harness/zookeeper.ts";
import { getCluster } from "../harness/state.ts";
import { OLD_SOURCES } from "./expected.ts";

const SCENARIOS: Array<{ name: string; args: string[] }> = [
  { name: "plan + mirror (or refusal)", args: ["./test/old-sources/old-source.check.ts"] },
  { name: "dual write", args: ["test/link/dual-write.test.ts", "-t", "control|one at a time"] },
  { name: "handoff", args: ["test/link/handoff.test.ts", "-t", "VerifiableConsumer group moves"] },
];

const versions = process.argv.slice(2);
for (const v of versions) if (!isOldVersion(v)) throw new Error(`unknown old version ${v} (known: ${OLD_VERSIONS.join(", ")})`);
getCluster("target"); // fails early, saying how to start it

const results: string[][] = [];
let failed = false;
for (const version of versions.length ? versions : OLD_VERSIONS) {
  if (!isOldVersion(version)) continue;
  const name = `old-${version}`;
  const row: string[] = [version];
  let cluster;
  try {
    cluster = await startZkCluster({ name, version });
    console.error(`--- ${name}: Kafka ${version} (ZooKeeper mode) on ${cluster.bootstrap}`);
    for (const s of SCENARIOS) {
      // a refused source: only the test that it is refused
      if (OLD_SOURCES[version].refused && s !== SCENARIOS[0]) {
        row.push("refused");
        continue;
      }
      const started = Date.now();
      const proc = Bun.spawn(["npx", "bun", "test", "--timeout", "600000", ...s.args], {
        env: { ...process.env, KLINK_TEST_SOURCE: name }, stdout: "inherit", stderr: "inherit",
      });
      const ok = (await proc.exited) === 0;
      failed ||= !ok;
      row.push(`${ok ? "pass" : "FAIL"} (${Math.round((Date.now() - started) / 1000)} s)`);
    }
  } catch (err) {
    failed = true;
    console.error(`${name}: ${(err as Error).message}`);
    while (row.length <= SCENARIOS.length) row.push("not run");
  } finally {
    if (cluster) await stopZkCluster(cluster);
  }
  results.push(row);
}

const header = ["source", ...SCENARIOS.map((s) => s.name)];
const widths = header.map((h, i) => Math.max(h.length, ...results.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
console.log(["", "old sources × target 4.4.0 (see test/old-sources/expected.ts for what plan reports)", line(header), ...results.map(line)].join("\n"));
process.exit(failed ? 1 : 0);
