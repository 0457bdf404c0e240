/**
 * The auth plugins against the source cluster's SASL_SSL (SCRAM) and SSL (mutual TLS) listeners:
 * settings from migration.yaml → clientSettings() → a librdkafka Admin → DescribeCluster.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { Admin } from "../../src/rdkafka/index.ts";
import { clientSettings } from "../../src/config/clients.ts";
import { loadConfig } from "../../src/config/load.ts";
import { source, target, uniqueName, withAdmin } from "../helpers.ts";
import { klink, tempDir } from "./cli.ts";

setDefaultTimeout(60_000);

const security = () => source().security!;
const topic = uniqueName("auth");

/** A migration.yaml whose source is `bootstrap` with `auth`, and whose target is the plaintext target. */
function yaml(bootstrap: string, auth: string): string {
  return `clusters:
  source:
    bootstrap: ${bootstrap}
    auth:
${auth.trim().split("\n").map((l) => `      ${l}`).join("\n")}
  target:
    bootstrap: ${target().bootstrap}
link:
  name: auth-test
  topics: [${topic}]
`;
}

async function describeSource(text: string, env: Record<string, string> = {}, files: Record<string, string> = {}) {
  const dir = tempDir({ ...files, "migration.yaml": text });
  const { config } = await loadConfig(join(dir, "migration.yaml"), { env });
  const settings = await clientSettings(config, "source", true);
  const admin = new Admin(settings.config, { ...settings.options, timeoutMs: 15_000 });
  try {
    return await admin.describeCluster();
  } finally {
    admin.close();
  }
}

beforeAll(() => withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }])));

describe("auth plugins connect to the source's secured listeners", () => {
  test("sasl: SCRAM-SHA-512 over TLS, verifying the broker with the test CA", async () => {
    const auth = `plugin: sasl
options:
  mechanism: SCRAM-SHA-512
  username: admin
  password: \${env:SOURCE_PASSWORD}
  tls: { ca: ${security().caPem} }`;
    const cluster = await describeSource(yaml(security().saslSslBootstrap, auth), { SOURCE_PASSWORD: security().users.admin });
    expect(cluster.nodes.length).toBe(1);
  });

  test("sasl: SCRAM-SHA-256 as a second user, the password from a file", async () => {
    const auth = `plugin: sasl
options:
  mechanism: SCRAM-SHA-256
  username: alice
  password: \${file:alice-password}
  tls: { ca: ${security().caPem} }`;
    const cluster = await describeSource(yaml(security().saslSslBootstrap, auth), {}, { "alice-password": `${security().users.alice}\n` });
    expect(cluster.nodes.length).toBe(1);
  });

  test("tls: mutual TLS with a PEM certificate and key", async () => {
    const auth = `plugin: tls
options: { ca: ${security().caPem}, certificate: ${security().clientCertPem}, key: ${security().clientKeyPem} }`;
    expect((await describeSource(yaml(security().sslBootstrap, auth))).nodes.length).toBe(1);
  });

  test("tls: mutual TLS with a PKCS#12 keystore", async () => {
    const auth = `plugin: tls
options: { ca: ${security().caPem}, keystore: ${security().clientP12}, keystorePassword: "\${env:P12_PASSWORD}" }`;
    expect((await describeSource(yaml(security().sslBootstrap, auth), { P12_PASSWORD: security().clientP12Password })).nodes.length).toBe(1);
  });
});

describe("klink plan with secured clusters", () => {
  const sasl = (password: string) => {
    const dir = tempDir({
      "migration.yaml": yaml(
        security().saslSslBootstrap,
        `plugin: sasl
options: { mechanism: SCRAM-SHA-512, username: admin, password: "\${env:KLINK_AUTH_TEST_PASSWORD}", tls: { ca: ${security().caPem} } }`,
      ),
    });
    process.env.KLINK_AUTH_TEST_PASSWORD = password;
    return join(dir, "migration.yaml");
  };

  test("the right password: a plan, with the password nowhere in it", async () => {
    const file = sasl(security().users.admin);
    for (const args of [["plan", file], ["plan", file, "--json"], ["validate", file, "--print"]]) {
      const r = await klink(...args);
      expect(r.code).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(security().users.admin);
    }
    expect((await klink("plan", file)).stdout).toContain(`  ${topic}  1 partition; create on the target`);
  });

  test("a wrong password: exit code 2 and one line saying authentication failed, without the password", async () => {
    const wrong = "not-the-admin-secret";
    const r = await klink("plan", sasl(wrong));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")).toHaveLength(1);
    expect(r.stderr).toStartWith(`klink plan: source cluster (${security().saslSslBootstrap}): `);
    expect(r.stderr).toContain("SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512");
    expect(r.stderr).not.toContain(wrong);
  });

  test("a broker certificate that the system's CAs do not trust: exit code 2, one line", async () => {
    const dir = tempDir({ "migration.yaml": yaml(security().sslBootstrap, `plugin: tls\noptions: { certificate: ${security().clientCertPem}, key: ${security().clientKeyPem} }`) });
    const r = await klink("plan", join(dir, "migration.yaml"));
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("certificate verify failed");
  });
});
