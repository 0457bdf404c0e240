import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { badInputs, BASE } from "./bad-inputs.ts";
import { klink, tempDir } from "./cli.ts";

/** Runs `klink validate` on `yaml` in a fresh directory, with `env` set for the run. */
async function validate(yaml: string, env: Record<string, string> = {}, files: Record<string, string> = {}, ...flags: string[]) {
  const dir = tempDir({ ...files, "migration.yaml": yaml });
  const file = join(dir, "migration.yaml");
  Object.assign(process.env, env);
  try {
    const r = await klink("validate", file, ...flags);
    return { ...r, dir, file, lines: r.stderr.split(file).join("F").split(dir).join("D").split("\n") };
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
  }
}

test("the table has at least 40 bad inputs", () => {
  expect(badInputs.length).toBeGreaterThanOrEqual(40);
});

test("the base of the table is valid", async () => {
  const r = await validate(BASE);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe("");
  expect(r.stdout.split("\n")[0]).toBe(`${r.file}: valid`);
});

describe("klink validate reports each bad input exactly, with its position, and exit code 1", () => {
  for (const c of badInputs) {
    test(c.name, async () => {
      const r = await validate(c.yaml, c.env, c.files);
      expect(r.lines).toEqual(c.expect);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      // nothing was created beside the YAML: no state file
      expect(readdirSync(r.dir).sort()).toEqual(["migration.yaml", ...Object.keys(c.files ?? {})].sort());
    });
  }
});

test("a missing file: one line, exit code 1", async () => {
  const r = await klink("validate", "/nonexistent/migration.yaml");
  expect(r.code).toBe(1);
  expect(r.stderr).toBe("klink validate: cannot read /nonexistent/migration.yaml: no such file (create one with `klink init`)");
});

test("an unknown option of validate: a suggestion and the usage, exit code 1", async () => {
  const r = await klink("validate", "migration.yaml", "--prin");
  expect(r.code).toBe(1);
  expect(r.stderr.split("\n")[0]).toBe("klink validate: unknown option --prin; did you mean '--print'?");
});

test("--print shows the resolved configuration with defaults filled in", async () => {
  const r = await validate(BASE, {}, {}, "--print");
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("  start: earliest\n  offsets: auto\n  prefixFillLimit: 10000000\n");
  expect(r.stdout).toContain("storage:\n  plugin: sqlite\n  options:\n    synchronous: full\n");
  expect(r.stdout).toContain("status:\n  listen: 127.0.0.1:8787\n");
});

test("warnings do not fail validation: a literal password, a status endpoint allowed beyond loopback", async () => {
  const yaml =
    BASE.replace("    bootstrap: 127.0.0.1:9092\n", "    bootstrap: 127.0.0.1:9092\n    auth: { plugin: sasl, options: { username: klink, password: hunter2hunter2, tls: false } }\n") +
    "status: { listen: 0.0.0.0:8787, allowRemote: true }\n";
  const r = await validate(yaml);
  expect(r.code).toBe(0);
  expect(r.lines).toEqual([
    "F:4:65: warning: clusters.source.auth.options.password: a secret written into the file: use ${env:NAME} or ${file:PATH} so it stays out of version control",
    "F:10:19: warning: status.listen: the status endpoint listens beyond loopback (0.0.0.0:8787) without TLS: anyone who reaches it sees the migration's state, and control requests (which need the token) travel unencrypted",
  ]);
  expect(r.stdout + r.stderr).not.toContain("hunter2hunter2");
});

test("librdkafka: settings the copying clients replace are warned about; batching is the operator's; under standby linger.ms stays below the message timeout", async () => {
  const tuned = BASE.replace("    bootstrap: 127.0.0.1:9093\n", "    bootstrap: 127.0.0.1:9093\n    librdkafka: { linger.ms: 50, batch.size: 200000, fetch.max.bytes: 100000000, message.timeout.ms: 60000 }\n");
  const r = await validate(tuned);
  expect(r.code).toBe(0);
  expect(r.lines).toEqual([
    "F:6:71: warning: clusters.target.librdkafka[\"fetch.max.bytes\"]: 'fetch.max.bytes' applies to klink's other clients of this cluster, not to the ones that copy records: klink sizes the copying consumer's fetching from limits.memory and limits.inFlightBytes",
  ]);
  const standby = `${tuned.replace("linger.ms: 50", "linger.ms: 10000")}  standby: true\nstorage: { plugin: kafka }\n`;
  const s = await validate(standby);
  expect(s.code).toBe(1);
  expect(s.lines.filter((l) => !l.includes("fetch.max.bytes"))).toEqual([
    "F:6:30: clusters.target.librdkafka[\"linger.ms\"]: must be below 10000 under link.standby: the producers that copy records fail a record not sent within 10000 ms",
    "F:6:105: warning: clusters.target.librdkafka[\"message.timeout.ms\"]: 'message.timeout.ms' does not apply to the producers that copy records: under link.standby they fail a record after 10000 ms, so that a paused klink cannot write it after a takeover",
    "klink validate: 1 error in F",
  ]);
});

test("a selection regex with a repeated group that repeats itself is warned about (exponential matching)", async () => {
  const r = await validate(BASE.replace(/  topics: .*\n/, "  topics: { regex: ['(orders-[a-z]+)+', 'payments-.*'], exclude: ['(x*)*y'] }\n"));
  expect(r.code).toBe(0);
  expect(r.lines.filter((l) => l.includes("exponential time")).map((l) => l.replace(/^F:\d+:\d+: /, "").replace(/' repeats.*/, "'"))).toEqual([
    "warning: link.topics.regex[0]: '(orders-[a-z]+)+'",
    "warning: link.topics.exclude[0]: '(x*)*y'",
  ]);
});

test("a status endpoint beyond loopback is refused unless status.allowRemote says so", async () => {
  for (const listen of ["0.0.0.0:8787", "10.1.2.3:8787", "[::]:8787", "klink.example.com:8787"]) {
    const r = await validate(`${BASE}status: { listen: "${listen}" }\n`);
    expect(r.code).toBe(1);
    expect(r.lines[0]).toContain(`status.listen: ${listen} listens beyond loopback`);
    expect(r.lines[0]).toContain("status.allowRemote: true");
  }
  for (const listen of ["127.0.0.1:8787", "localhost:8787", "[::1]:8787"]) expect((await validate(`${BASE}status: { listen: "${listen}" }\n`)).code).toBe(0);
});

test("a number or a switch from the environment becomes one where the schema wants it, and is shown", async () => {
  const yaml = `${BASE}  prefixFillLimit: \${env:KLINK_T_LIMIT}\n  create:\n    replicationFactor: \${env:KLINK_T_RF}\n    copyConfigs: \${env:KLINK_T_COPY}\n`;
  const r = await validate(yaml, { KLINK_T_LIMIT: "5000", KLINK_T_RF: "3", KLINK_T_COPY: "false" }, {}, "--print");
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("  prefixFillLimit: 5000\n  create:\n    replicationFactor: 3\n    copyConfigs: false\n");
  const bad = await validate(yaml, { KLINK_T_LIMIT: "lots", KLINK_T_RF: "3", KLINK_T_COPY: "false" });
  expect(bad.lines).toEqual(["F:9:20: link.prefixFillLimit: expected an integer, got '<redacted>'", "klink validate: 1 error in F"]);
});

test("a ${...} value inside a flow mapping: the YAML error says to quote it", async () => {
  const r = await validate(`${BASE}  create: { replicationFactor: \${env:RF} }\n`);
  expect(r.lines[0]).toBe("F:9:33: invalid YAML: Unexpected flow-map-start at node end (inside { } or [ ], put a ${...} value in quotes)");
});
