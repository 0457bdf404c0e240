/**
 * The oauthbearer auth plugin against a real broker: the source cluster's OAUTHBEARER listener
 * (SASL_PLAINTEXT, Kafka's unsecured JWT validator, see test/harness/cluster.ts). Tokens come from
 * a shell script, as they would from a vault or cloud CLI; they are unsigned JWTs the broker checks
 * for `alg: none`, `sub` and `exp`. The broker also ends a session when its token expires (KIP-368),
 * so a client only keeps working if librdkafka asked for, and got, a fresh token in time.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Admin } from "../../src/rdkafka/index.ts";
import { clientSettings } from "../../src/config/clients.ts";
import { loadConfig } from "../../src/config/load.ts";
import { source, target, uniqueName, withAdmin } from "../helpers.ts";
import { klink, tempDir } from "./cli.ts";

setDefaultTimeout(60_000);

const oauthBootstrap = () => source().security!.oauthBootstrap;
const topic = uniqueName("oauth");
/** Every JWT starts with a base64 `{"`: none may appear in what klink prints. */
const JWT_START = "eyJ";

/**
 * token.sh SUB LIFETIME_SECONDS [CALLS_FILE] [ALG]: prints an unsecured JWT for SUB that expires
 * LIFETIME_SECONDS from now (negative: already expired), and appends the time to CALLS_FILE.
 * With ALG other than "none" it adds a (fake) signature, which the unsecured validator refuses.
 * Kafka decodes the JWT's parts as base64, not base64url: `base64 | tr -d '=\n'` suits it.
 */
const TOKEN_SCRIPT = `#!/bin/sh
now=$(date +%s)
b64() { printf '%s' "$1" | base64 | tr -d '=\\n'; }
[ -n "$3" ] && echo "$now" >> "$3"
alg=\${4:-none}
sig=""
[ "$alg" = none ] || sig=c2lnbmF0dXJl
printf '%s.%s.%s\\n' "$(b64 "{\\"alg\\":\\"$alg\\"}")" "$(b64 "{\\"sub\\":\\"$1\\",\\"iat\\":$now,\\"exp\\":$((now + $2))}")" "$sig"
`;

/** A migration.yaml (in a fresh directory with token.sh) whose source authenticates with `command`. */
function migration(command: string): { dir: string; file: string } {
  const dir = tempDir({
    "token.sh": TOKEN_SCRIPT,
    "migration.yaml": `clusters:
  source:
    bootstrap: ${oauthBootstrap()}
    auth:
      plugin: oauthbearer
      options:
        command: '${command}'
        tls: false
  target:
    bootstrap: ${target().bootstrap}
link:
  name: oauth-test
  topics: [${topic}]
`,
  });
  return { dir, file: join(dir, "migration.yaml") };
}

/** The epoch seconds at which the token command ran, one per call. */
const calls = (file: string): number[] => (existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").map(Number) : []);

beforeAll(async () => {
  if (!source().security?.oauthBootstrap) throw new Error("the source cluster has no OAUTHBEARER listener (started by an older harness?): run `bun test/harness/cli.ts up` again");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
});

describe("klink plan with an OAUTHBEARER source", () => {
  test("a valid token: the plan, exit 0, and no token in the output", async () => {
    const { file } = migration("sh token.sh admin 300");
    for (const args of [["plan", file], ["plan", file, "--json"]]) {
      const r = await klink(...args);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain(JWT_START);
    }
    const r = await klink("plan", file);
    expect(r.stdout).toContain(`source  ${oauthBootstrap()}  cluster `);
    expect(r.stdout).toContain(`  ${topic}  1 partition; create on the target`);
  });

  const refused: Array<[string, string, string]> = [
    ["an expired token", "sh token.sh admin -60", "Failed to acquire SASL OAUTHBEARER token: the token expired at "],
    ["a token the broker refuses (signed, where it wants alg none)", "sh token.sh admin 300 \"\" HS256", 'SASL authentication error: {"status":"invalid_token"}'],
    ["a token command that fails", "echo vault: permission denied >&2; exit 3", "Failed to acquire SASL OAUTHBEARER token: token command exited with 3: vault: permission denied"],
  ];
  for (const [what, command, reason] of refused) {
    test(`${what}: exit code 2 and one line saying why, without the token`, async () => {
      const r = await klink("plan", migration(command).file);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.split("\n")).toHaveLength(1);
      expect(r.stderr).toStartWith(`klink plan: source cluster (${oauthBootstrap()}): `);
      expect(r.stderr).toContain(reason);
      expect(r.stderr).toContain("check the token the oauthbearer plugin's `command` or `file` gives");
      expect(r.stderr).not.toContain(JWT_START);
    });
  }
});

/** librdkafka settings from a migration.yaml whose token command lasts `lifetime` s and logs its calls. */
async function oauthSettings(lifetime: number) {
  const { dir, file } = migration(`sh token.sh admin ${lifetime} calls.log`);
  const { config } = await loadConfig(file, { env: {} });
  return { ...(await clientSettings(config, "source", true)), callsFile: join(dir, "calls.log") };
}

describe("token refresh", () => {
  test("a client keeps working after its first token expired; one that is never refreshed does not", async () => {
    const lifetime = 12;
    const fresh = await oauthSettings(lifetime);
    const control = await oauthSettings(lifetime);
    expect(fresh.options.onTokenRefresh).toBeFunction();

    const refreshing = new Admin(fresh.config, { ...fresh.options, timeoutMs: 5_000 });
    // the control answers librdkafka's first request only, so it keeps its first token
    let requests = 0;
    const firstOnly: typeof control.options.onTokenRefresh = (client, oauthConfig) => {
      if (requests++ === 0) control.options.onTokenRefresh!(client, oauthConfig);
    };
    const stale = new Admin({ ...control.config, log_level: 2 }, { ...control.options, onTokenRefresh: firstOnly, onError: () => {}, timeoutMs: 3_000 });
    try {
      expect((await refreshing.describeCluster()).nodes).toHaveLength(1);
      expect((await stale.describeCluster()).nodes).toHaveLength(1);
      const firstExpiry = calls(fresh.callsFile)[0]! + lifetime;

      // keep asking until 3 s after the first token expired: every request is answered
      while (Date.now() < (firstExpiry + 3) * 1000) {
        expect((await refreshing.describeCluster()).nodes).toHaveLength(1);
        await Bun.sleep(1_000);
      }
      const times = calls(fresh.callsFile);
      expect(times.length).toBeGreaterThanOrEqual(2);
      // the second token came before the first expired (librdkafka asks at about 80% of its lifetime)
      expect(times[1]!).toBeLessThan(firstExpiry);

      // without a fresh token the broker ends the session when the token expires, and refuses it after
      expect(requests).toBeGreaterThan(1); // librdkafka did ask again
      expect(calls(control.callsFile)).toHaveLength(1);
      await expect(stale.describeCluster()).rejects.toThrow();
    } finally {
      refreshing.close();
      stale.close();
    }
  }, 60_000);
});

describe("klink run and verify with an OAUTHBEARER source", () => {
  test("every client (admin, consumer, producer) gets its token: the topic is mirrored and identical", async () => {
    const { Producer } = await import("../../src/rdkafka/index.ts");
    const p = new Producer({ "bootstrap.servers": source().bootstrap, "linger.ms": 5 });
    for (let i = 0; i < 2000; i++) p.produce({ topic, partition: 0, key: `k${i}`, value: `v${i}` });
    await p.flush();
    await p.close();
    const { file } = migration("sh token.sh admin 300");
    const run = await klink("run", file, "--until-caught-up");
    if (run.code !== 0) console.error(run.stderr);
    expect(run.stderr).not.toContain("stopped:");
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain(JWT_START);
    const verify = await klink("verify", file);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain("identical: 2000 records in 1 partitions");
  });
});
