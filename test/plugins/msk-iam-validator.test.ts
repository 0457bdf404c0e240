/**
 * auth/msk-iam against a real broker whose OAUTHBEARER listener checks MSK IAM tokens the way MSK
 * does: a single-node Kafka 3.9.2 started by this test (stopped at the end) with a test validator
 * (msk-iam-validator/MskIamValidator.java: SigV4 signature, expiry, session until the token
 * expires). Credentials come from a stand-in metadata service that hands out credentials lasting
 * 15 s, so the tokens last 15 s: the broker ends each session when its token expires (KIP-368),
 * librdkafka must renew its token in time, and the group client must reconnect with a new one.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "../../plugins/auth/msk-iam.ts";
import { GroupClient, describeGroup } from "../../src/group/index.ts";
import { Admin } from "../../src/rdkafka/index.ts";
import { connectAdmin } from "../../src/plan/connect.ts";
import { javaArgv, ensureJars } from "../harness/jars.ts";
import { uniqueName } from "../helpers.ts";
import { imdsStandIn } from "./msk-iam-stand-ins.ts";

setDefaultTimeout(180_000);

const KEY = { accessKeyId: "ASIAVALIDATORTEST", secretAccessKey: "validator/secret+key", sessionToken: "validator-session" };
const CREDENTIALS_LIFETIME_MS = 15_000;
const context = { configFile: "/x/migration.yaml", configDir: "/x", linkName: "t", readOnly: true };

let broker: { iam: string; log: string; stop: () => Promise<void> } | null = null;

/** What the validator accepted since `from` (bytes into its log): one line per authentication. */
const accepted = (from: number) => readFileSync(broker!.log, "utf8").slice(from).split("\n").filter((l) => l.startsWith("MskIamValidator: accepted"));

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

async function run(argv: string[], what: string): Promise<void> {
  const p = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${what} exited with ${code}: ${out}${err}`);
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "klink-msk-broker-"));
  const libs = await ensureJars("3.9.2");
  await run(["javac", "--release", "11", "-cp", `${libs}/*`, "-d", join(dir, "classes"), join(import.meta.dir, "msk-iam-validator/MskIamValidator.java")], "javac");
  const [plain, controller, iam] = [await freePort(), await freePort(), await freePort()];
  const config = join(dir, "server.properties");
  mkdirSync(join(dir, "data"));
  writeFileSync(config, [
    "process.roles=broker,controller", "node.id=1", `controller.quorum.voters=1@127.0.0.1:${controller}`, "controller.listener.names=CONTROLLER",
    `listeners=PLAINTEXT://127.0.0.1:${plain},CONTROLLER://127.0.0.1:${controller},IAM://127.0.0.1:${iam}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${plain},IAM://127.0.0.1:${iam}`, "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,IAM:SASL_PLAINTEXT",
    `log.dirs=${join(dir, "data")}`, "offsets.topic.replication.factor=1", "transaction.state.log.replication.factor=1", "transaction.state.log.min.isr=1",
    "group.initial.rebalance.delay.ms=0", "num.network.threads=2", "num.io.threads=2",
    "listener.name.iam.sasl.enabled.mechanisms=OAUTHBEARER",
    `listener.name.iam.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker" secret_${KEY.accessKeyId}="${KEY.secretAccessKey}";`,
    "listener.name.iam.oauthbearer.sasl.server.callback.handler.class=klink.test.MskIamValidator",
    // KIP-368: a session lasts until the token expires (at most 10 minutes), then the client must re-authenticate
    "listener.name.iam.oauthbearer.connections.max.reauth.ms=600000",
  ].join("\n") + "\n");
  const withValidator = (argv: string[]) => argv.map((a) => (a === `${libs}/*` ? `${a}:${join(dir, "classes")}` : a));
  const marker = `msk-iam-validator-${process.pid}`;
  await run(await javaArgv({ version: "3.9.2", kind: "tool", mainClass: "kafka.tools.StorageTool", args: ["format", "-t", "bXNrLWlhbS10ZXN0LWlk", "-c", config], marker }), "kafka-storage format");
  const log = openSync(join(dir, "stdout.log"), "a");
  const proc = Bun.spawn(withValidator(await javaArgv({ version: "3.9.2", kind: "broker", mainClass: "kafka.Kafka", args: [config], marker, jvm: ["-Xms256m", "-Xmx512m"], logsDir: dir })), { stdout: log, stderr: log });
  broker = {
    iam: `127.0.0.1:${iam}`,
    log: join(dir, "stdout.log"),
    stop: async () => {
      proc.kill("SIGKILL");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const admin = new Admin({ "bootstrap.servers": `127.0.0.1:${plain}` }, { timeoutMs: 5_000 });
  try {
    for (const deadline = Date.now() + 120_000; ; await Bun.sleep(500)) {
      if (proc.exitCode !== null) throw new Error(`the broker exited: ${readFileSync(join(dir, "stdout.log"), "utf8").slice(-3000)}`);
      if (await admin.describeCluster().then(() => true, () => false)) break;
      if (Date.now() > deadline) throw new Error(`the broker did not start in 120 s (logs in ${dir})`);
    }
  } finally {
    admin.close();
  }
});

afterAll(async () => broker?.stop());

test("librdkafka and the group client authenticate with the MSK token, renew it and reconnect as each 15 s token expires", async () => {
  // each fetch gives credentials whose session token dies in 15 s (and says when, for the validator)
  const imds = imdsStandIn("klink-role", () => {
    const expiresAt = Date.now() + CREDENTIALS_LIFETIME_MS;
    return { ...KEY, sessionToken: `expires-${expiresAt}`, expiration: new Date(expiresAt) };
  });
  const logFrom = readFileSync(broker!.log, "utf8").length;
  let signed = 0;
  try {
    const auth = await create({ region: "eu-west-1", roleSessionName: "klink", tls: false }, context, { env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url }, home: homedir() + "/nonexistent", now: Date.now });
    const token = async () => (signed++, auth.token!());
    const config = { "bootstrap.servers": broker!.iam, ...auth.properties };
    const { admin } = await connectAdmin("source", broker!.iam, { config, options: { onTokenRefresh: (c, s) => (signed++, auth.onTokenRefresh!(c, s)) }, token });
    const group = new GroupClient({ config, token });
    const groupId = uniqueName("msk-iam");
    try {
      const started = Date.now();
      for (let round = 0; Date.now() - started < 3 * CREDENTIALS_LIFETIME_MS; round++) {
        expect((await admin.describeCluster()).nodes).toHaveLength(1);
        expect((await describeGroup(group, groupId)).state).toBe("Dead");
        await Bun.sleep(5_000);
      }
    } finally {
      group.close();
      admin.close();
    }
    // three credential lifetimes: the broker ended sessions as tokens expired, and took new tokens
    // signed with new credentials (each session token seen is another fetch from the metadata service)
    const lines = accepted(logFrom);
    const tokens = new Set(lines.map((l) => l.split(" token ")[1]));
    const sessions = new Set(lines.map((l) => l.split(" session ")[1]!.split(" ")[0]));
    expect(tokens.size).toBeGreaterThanOrEqual(4);
    expect(sessions.size).toBeGreaterThanOrEqual(3);
    expect(signed).toBeGreaterThanOrEqual(tokens.size);
  } finally {
    imds.stop();
  }
});

test("a token signed with a secret the broker does not know is refused", async () => {
  const auth = await create({ region: "eu-west-1", roleSessionName: "klink", tls: false }, context, { env: { AWS_ACCESS_KEY_ID: KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: "not-the-secret" }, home: "/nonexistent", now: Date.now });
  const err = await connectAdmin("source", broker!.iam, { config: { "bootstrap.servers": broker!.iam, ...auth.properties }, options: { onTokenRefresh: auth.onTokenRefresh! } }).catch((e: Error) => e);
  expect((err as Error).message).toContain('SASL authentication error: {"status":"invalid_token"}');
});
