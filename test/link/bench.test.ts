/**
 * `klink bench` from the compiled binary against the test clusters (issue 16, item 4): every phase
 * measured on scratch topics, the scratch topics gone from both clusters afterwards and the user's
 * linked topic untouched, checked with the test's own admin client; a source that refuses to
 * create the scratch topics is a one-line refusal that wrote nothing.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { Producer } from "../../src/rdkafka/index.ts";
import { aclTool } from "../harness/tools.ts";
import { plain, source, target, uniqueName, withAdmin } from "../helpers.ts";
import { klink, writeMigration } from "./klink-process.ts";

setDefaultTimeout(300_000);

const topicsNamed = async (prefix: string) => ({
  source: await withAdmin(source(), async (a) => a.listTopics().map((t) => t.name).filter((n) => n.startsWith(prefix))),
  target: await withAdmin(target(), async (a) => a.listTopics().map((t) => t.name).filter((n) => n.startsWith(prefix))),
});

test("klink bench measures every phase on scratch topics, deletes them, and leaves the linked topic alone", async () => {
  const real = uniqueName("bench-real");
  await withAdmin(source(), (a) => a.createTopics([{ name: real, partitions: 2 }]));
  const p = new Producer(plain(source()));
  for (let i = 0; i < 50; i++) p.produce({ topic: real, partition: i % 2, value: `r${i}` });
  await p.flush();
  await p.close();
  const before = await withAdmin(source(), (a) => a.watermarks([0, 1].map((partition) => ({ topic: real, partition }))));
  const linkName = uniqueName("bench");
  const file = writeMigration({ topics: [real], linkName });

  const r = await klink(["bench", file, "--mb", "5", "--record-bytes", "500", "--partitions", "3", "--compression", "lz4", "--rate", "200", "--seconds", "2", "--json"]);
  expect({ code: r.code, stderr: r.code ? r.stderr : "" }).toEqual({ code: 0, stderr: "" });
  const report = JSON.parse(r.stdout);
  expect(report.phases.map((m: { phase: string }) => m.phase)).toEqual(["write to the source (lz4)", "read from the source", "raw librdkafka pipe", "fast lane (preview)", "klink exact lane"]);
  const written = report.phases[0];
  expect(written.bytes).toBeGreaterThanOrEqual(5e6);
  for (const m of report.phases) {
    expect({ phase: m.phase, records: m.records }).toEqual({ phase: m.phase, records: written.records });
    expect(m.seconds).toBeGreaterThan(0);
    expect(m.mbPerSecond).toBeGreaterThan(0);
  }
  expect(report.latency.records).toBe(400);
  expect(report.latency.max).toBeGreaterThanOrEqual(report.latency.p99);
  expect(report.leftBehind).toEqual([]);

  // From outside: no scratch topic left on either cluster; the linked topic is as it was, and not on the target.
  expect(await topicsNamed(`klink-bench-${linkName}`)).toEqual({ source: [], target: [] });
  expect(await withAdmin(source(), (a) => a.watermarks([0, 1].map((partition) => ({ topic: real, partition }))))).toEqual(before);
  expect((await topicsNamed(real)).target).toEqual([]);
});

test("a source that does not let klink write its scratch topics: one line saying what to grant, exit 2, the scratch topic deleted", async () => {
  const s = source().security!;
  const linkName = uniqueName("bench-denied");
  const file = writeMigration({ topics: ["unused"], linkName });
  writeFileSync(file, readFileSync(file, "utf8").replace(
    `source: { bootstrap: "${source().bootstrap}" }`,
    `source:\n    bootstrap: "${s.saslSslBootstrap}"\n    auth: { plugin: sasl, options: { mechanism: SCRAM-SHA-512, username: alice, password: "${s.users.alice}", tls: { ca: "${s.caPem}" } } }`,
  ));
  // alice may create, describe and delete the scratch topics, not write them
  await aclTool(source(), ["--add", "--force", "--allow-principal", "User:alice", "--operation", "Create", "--operation", "Describe", "--operation", "Delete", "--resource-pattern-type", "prefixed", "--topic", `klink-bench-${linkName}`]);

  const r = await klink(["bench", file, "--mb", "1"]);
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split("\n").filter((l) => !/ WARN | INFO /.test(l));
  expect(lines.at(-1)).toMatch(/^klink bench: klink bench needs CREATE, DELETE, READ and WRITE on topics with the prefix 'klink-bench-' on the source cluster, which refused: .*TOPIC_AUTHORIZATION_FAILED.*Nothing was written to your topics\.$/);
  expect(await topicsNamed(`klink-bench-${linkName}`)).toEqual({ source: [], target: [] });
});
