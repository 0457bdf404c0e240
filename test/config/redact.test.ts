/** Secrets from ${env:...} and ${file:...} (and values under secret keys) never appear in output. */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { Secrets } from "../../src/config/secrets.ts";
import { BASE } from "./bad-inputs.ts";
import { klink, tempDir } from "./cli.ts";

const SECRET = "tr0ub4dor-and-3";

async function run(args: (file: string) => string[], yaml: string, files: Record<string, string> = {}) {
  const dir = tempDir({ ...files, "migration.yaml": yaml });
  process.env.KLINK_REDACT_SECRET = SECRET;
  try {
    const r = await klink(...args(join(dir, "migration.yaml")));
    return { ...r, all: r.stdout + "\n" + r.stderr };
  } finally {
    delete process.env.KLINK_REDACT_SECRET;
  }
}

const withAuth = (options: string) => BASE.replace("    bootstrap: 127.0.0.1:9092\n", `    bootstrap: 127.0.0.1:9092\n    auth: { plugin: sasl, options: ${options} }\n`);

test("a secret from the environment in an error message is redacted", async () => {
  const r = await run((f) => ["validate", f], withAuth("{ mechanism: '${env:KLINK_REDACT_SECRET}', username: u, password: p }"));
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("sasl plugin: '<redacted>' is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512");
  expect(r.all).not.toContain(SECRET);
});

test("a secret from a file in librdkafka's error message is redacted", async () => {
  const yaml = BASE.replace("    bootstrap: 127.0.0.1:9093\n", "    bootstrap: 127.0.0.1:9093\n    librdkafka: { socket.timeout.ms: '${file:timeout-secret}' }\n");
  const r = await run((f) => ["validate", f], yaml, { "timeout-secret": `${SECRET}\n` });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`librdkafka rejects '<redacted>': Invalid value for configuration property "socket.timeout.ms"`);
  expect(r.all).not.toContain(SECRET);
});

test("validate --print shows secrets, whole or inside a longer value, as <redacted>", async () => {
  const r = await run((f) => ["validate", f, "--print"], withAuth("{ username: 'svc-${env:KLINK_REDACT_SECRET}', password: '${env:KLINK_REDACT_SECRET}', tls: false }"));
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("        username: svc-<redacted>\n        password: <redacted>\n");
  expect(r.all).not.toContain(SECRET);
});

test("a literal password is a secret too", async () => {
  const r = await run((f) => ["validate", f, "--print"], withAuth(`{ username: u, password: ${SECRET}, tls: false }`));
  expect(r.code).toBe(0);
  expect(r.all).not.toContain(SECRET);
});

test("a plugin that fails to start: its message without a stack trace, redacted, exit code 1", async () => {
  const yaml = `${BASE}storage: { plugin: ${import.meta.dir}/fixtures/throws-on-start.ts, options: { address: "\${env:KLINK_REDACT_SECRET}" } }\n`;
  const r = await run((f) => ["plan", f], yaml);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr).toBe(`klink plan: storage plugin vault-state (storage, ${import.meta.dir}/fixtures/throws-on-start.ts) failed to start: cannot reach the vault at <redacted>`);
});

test("Secrets.redact replaces longer secrets first and leaves other text alone", () => {
  const s = new Secrets();
  s.add("abc");
  s.add("abcdef");
  s.add("");
  expect(s.redact("x abcdef y abc z")).toBe("x <redacted> y <redacted> z");
  expect(s.redactValue({ password: "anything", nested: { v: "has abc inside" }, list: ["abcdef"] })).toEqual({ password: "<redacted>", nested: { v: "has <redacted> inside" }, list: ["<redacted>"] });
});

test("a multi-line ${file:} value used as a regex: validate shows neither it nor its regex source (newlines escaped)", async () => {
  const yaml = BASE.replace("  topics: [orders]\n", "  topics: { regex: ['orders-${file:pattern}'] }\n");
  const r = await run((f) => ["validate", f], yaml, { pattern: `a\n${SECRET}\nb\n` });
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("matching orders-<redacted>");
  expect(r.all).not.toContain(SECRET);
  expect(r.all).not.toContain(new RegExp(`a\n${SECRET}\nb`).source);
});

test("secrets are redacted in their JSON-escaped, regex-quoted and URL-encoded forms, and line by line", () => {
  const s = new Secrets();
  const secret = `pa"ss/wo\\rd\n${SECRET}`;
  s.add(secret);
  for (const form of [JSON.stringify(secret), new RegExp(secret).source, secret.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"), encodeURIComponent(secret), `line: ${SECRET}`]) {
    expect(s.redact(form)).not.toContain(SECRET);
    expect(s.redact(form)).not.toContain("ss/wo");
  }
});

test("a ${file:} bootstrap is shown, but never more than its first line", async () => {
  const yaml = BASE.replace("    bootstrap: 127.0.0.1:9092\n", "    bootstrap: '${file:servers}'\n");
  const r = await run((f) => ["validate", f], yaml, { servers: `127.0.0.1:9092\n${SECRET}\n` });
  expect(r.all).toContain("127.0.0.1:9092");
  expect(r.all).not.toContain(SECRET);
});
