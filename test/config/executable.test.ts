/**
 * The compiled executable (dist/klink) loads a user's plugins from files beside migration.yaml:
 * TypeScript and JavaScript, named by relative path, run from a directory outside the repo (no
 * node_modules, no tsconfig). An auth plugin's properties really reach librdkafka (SCRAM over TLS
 * to the source's SASL_SSL listener), its option errors are reported at their place in the YAML,
 * and a plugin that fails to start ends klink with its own message, no stack trace.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { source, target, uniqueName, withAdmin } from "../helpers.ts";

setDefaultTimeout(60_000);

const REPO = resolve(import.meta.dir, "../..");
const KLINK = join(REPO, "dist/klink");
const topic = uniqueName("exe");
const PASSWORD_ENV = "KLINK_EXE_TEST_PASSWORD";

/** A user auth plugin in TypeScript: SCRAM-SHA-512 over TLS, with a `check` that uses node:fs. */
const SCRAM_PLUGIN = `import { existsSync } from "node:fs";
import { resolve } from "node:path";

interface Options { username: string; password: string; ca: string }
interface Context { configDir: string }

export const name = "team-scram";
export const kind = "auth";
export const optionsSchema = {
  description: "SCRAM-SHA-512 over TLS, the way our team sets it up",
  type: "object",
  additionalProperties: false,
  required: ["username", "password", "ca"],
  properties: {
    username: { type: "string", minLength: 1 },
    password: { type: "string", minLength: 1, writeOnly: true },
    ca: { type: "string", description: "the brokers' CA, relative to migration.yaml" },
  },
};
export function check(options: Options, context: Context) {
  return existsSync(resolve(context.configDir, options.ca)) ? [] : [{ path: ["ca"], message: \`no CA file at \${options.ca}\` }];
}
export function create(options: Options, context: Context) {
  return {
    properties: {
      "security.protocol": "SASL_SSL",
      "sasl.mechanism": "SCRAM-SHA-512",
      "sasl.username": options.username,
      "sasl.password": options.password,
      "ssl.ca.location": resolve(context.configDir, options.ca),
    },
  };
}
`;

/** A user cutover plugin in plain JavaScript, as one default-exported object. */
const CUTOVER_PLUGIN = `export default {
  name: "quiet-hours",
  kind: "cutover",
  optionsSchema: {
    type: "object",
    additionalProperties: false,
    properties: { quietSeconds: { type: "integer", minimum: 0, default: 60 } },
  },
  create: (options) => ({
    handOff: () => ({ go: false, reason: \`waiting \${options.quietSeconds} s\` }),
    promote: () => ({ go: false, reason: "not yet" }),
  }),
};
`;

/** A user auth plugin in JavaScript whose start-up fails. */
const BROKEN_PLUGIN = `export const name = "vault-token";
export const kind = "auth";
export const optionsSchema = { type: "object", additionalProperties: false, properties: { address: { type: "string" } } };
export function create(options) {
  throw new Error(\`cannot reach the vault at \${options.address}\`);
}
`;

function yaml(auth: string, cutover = "{ plugin: ./quiet-hours.js, options: { quietSeconds: 30 } }"): string {
  return `clusters:
  source:
    bootstrap: ${source().security!.saslSslBootstrap}
    auth: ${auth}
  target:
    bootstrap: ${target().bootstrap}
link:
  name: exe-test
  topics: [${topic}]
cutover: ${cutover}
`;
}

const SCRAM_AUTH = `{ plugin: ./my-plugin.ts, options: { username: admin, password: "\${env:${PASSWORD_ENV}}", ca: certs/ca.pem } }`;

/** A fresh directory outside the repo with the plugins, the CA and this migration.yaml. */
function project(migration: string): string {
  const dir = mkdtempSync(join(tmpdir(), "klink-exe-"));
  writeFileSync(join(dir, "my-plugin.ts"), SCRAM_PLUGIN);
  writeFileSync(join(dir, "quiet-hours.js"), CUTOVER_PLUGIN);
  writeFileSync(join(dir, "vault-token.js"), BROKEN_PLUGIN);
  mkdirSync(join(dir, "certs"));
  copyFileSync(source().security!.caPem, join(dir, "certs/ca.pem"));
  writeFileSync(join(dir, "migration.yaml"), migration);
  return dir;
}

/** Runs dist/klink in `cwd` with the admin's password in the environment. */
async function exe(cwd: string, ...args: string[]) {
  const proc = Bun.spawn([KLINK, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? cwd, [PASSWORD_ENV]: source().security!.users.admin },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** `line:col` (1-based) of the first occurrence of `needle` in `text`. */
function position(text: string, needle: string): string {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`${needle} not in the YAML`);
  const before = text.slice(0, at).split("\n");
  return `${before.length}:${before.at(-1)!.length + 1}`;
}

beforeAll(async () => {
  if (!existsSync(KLINK)) {
    const build = Bun.spawnSync(["bash", "scripts/build.sh"], { cwd: REPO, stdout: "inherit", stderr: "inherit" });
    if (build.exitCode !== 0) throw new Error(`bash scripts/build.sh failed (exit ${build.exitCode})`);
  }
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
}, 600_000);

describe("dist/klink with user plugins beside migration.yaml", () => {
  test("validate loads a .ts auth plugin and a .js cutover plugin by relative path", async () => {
    const dir = project(yaml(SCRAM_AUTH));
    const r = await exe(dir, "validate", "migration.yaml");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("auth ./my-plugin.ts");
    expect(r.stdout).toContain("cutover  ./quiet-hours.js");
    // defaults of a user plugin's schema are filled in; its writeOnly option is redacted
    const printed = await exe(dir, "validate", "migration.yaml", "--print");
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain("quietSeconds: 30");
    expect(printed.stdout).not.toContain(source().security!.users.admin);
  });

  test("plan connects with the user plugin's properties (SCRAM over TLS), run from another directory", async () => {
    const dir = project(yaml(SCRAM_AUTH));
    const elsewhere = mkdtempSync(join(tmpdir(), "klink-exe-cwd-"));
    const r = await exe(elsewhere, "plan", join(dir, "migration.yaml"));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`source  ${source().security!.saslSslBootstrap}  cluster `);
    expect(r.stdout).toContain(`  ${topic}  1 partition; create on the target`);
    expect(r.stdout).not.toContain(source().security!.users.admin);
  });

  test("option errors in user plugins: file:line:col, the option's path and the plugin's name (exit 1)", async () => {
    const auth = `{ plugin: ./my-plugin.ts, options: { username: admin, password: "\${env:${PASSWORD_ENV}}", ca: certs/ca.pem, mechanism: PLAIN } }`;
    const text = yaml(auth, "{ plugin: ./quiet-hours.js, options: { quietSeconds: -5 } }");
    const r = await exe(project(text), "validate", "migration.yaml");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trim().split("\n");
    expect(lines).toEqual([
      `migration.yaml:${position(text, "mechanism: PLAIN")}: clusters.source.auth.options.mechanism: team-scram plugin: unknown key 'mechanism'; expected one of username, password, ca`,
      `migration.yaml:${position(text, "-5 }")}: cutover.options.quietSeconds: quiet-hours plugin: must be at least 0, got -5`,
      "klink validate: 2 errors in migration.yaml",
    ]);
  });

  test("a user plugin's own check: reported at its option, like a schema error", async () => {
    const text = yaml(SCRAM_AUTH.replace("certs/ca.pem", "certs/missing.pem"));
    const r = await exe(project(text), "validate", "migration.yaml");
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([
      `migration.yaml:${position(text, "certs/missing.pem")}: clusters.source.auth.options.ca: team-scram plugin: no CA file at certs/missing.pem`,
      "klink validate: 1 error in migration.yaml",
    ]);
  });

  test("a user plugin that throws in create: its message, no stack trace, exit 1", async () => {
    const dir = project(yaml("{ plugin: ./vault-token.js, options: { address: https://vault.internal:8200 } }"));
    expect((await exe(dir, "validate", "migration.yaml")).code).toBe(0); // validate does not start plugins
    const r = await exe(dir, "plan", "migration.yaml");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("klink plan: auth plugin vault-token (clusters.source.auth, ./vault-token.js) failed to start: cannot reach the vault at https://vault.internal:8200\n");
  });
});
