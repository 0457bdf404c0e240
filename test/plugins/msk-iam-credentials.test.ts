/**
 * auth/msk-iam: where the credentials come from (environment, shared files, web identity, EC2
 * metadata, an assumed role), refresh before expiry, and the errors operators see. STS and the
 * metadata service are stand-ins (msk-iam-stand-ins.ts); AssumeRole signatures are checked with botocore.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { create, tokenSource, type MskIamOptions } from "../../plugins/auth/msk-iam.ts";
import type { Client } from "../../plugins/plugin.ts";
import { tempDir } from "../config/cli.ts";
import { imdsStandIn, stsStandIn } from "./msk-iam-stand-ins.ts";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const MIN = 60_000;
const options: MskIamOptions = { region: "eu-west-1", roleSessionName: "klink", tls: true };
const caller = { accessKeyId: "AKIACALLER", secretAccessKey: "caller/secret+key", sessionToken: "caller-session/token+=" };
const assumed = { accessKeyId: "ASIAASSUMED", secretAccessKey: "assumed-secret", sessionToken: "assumed-session" };

const context = { configFile: "/x/migration.yaml", configDir: "/x", linkName: "t", readOnly: true };
const stops: Array<() => void> = [];
afterEach(() => stops.splice(0).forEach((stop) => stop()));

/** A clock the test moves, an empty home and no IMDS (an address nothing answers on), plus `env`. */
function world(env: Record<string, string> = {}) {
  const clock = { now: T0 };
  const home = tempDir();
  return { clock, home, e: { env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: deadEndpoint, ...env }, home, now: () => clock.now } };
}
const deadEndpoint = (() => {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
  s.stop(true);
  return `http://127.0.0.1:${s.port}`; // closed: connections are refused
})();

/** The presigned URL inside a token, and its query parameters. */
const signedUrl = (token: string) => new URL(Buffer.from(token, "base64url").toString("utf8"));
const keyIn = (token: string) => signedUrl(token).searchParams.get("X-Amz-Credential")!.split("/")[0];

test("environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN sign the token", async () => {
  const { e } = world({ AWS_ACCESS_KEY_ID: caller.accessKeyId, AWS_SECRET_ACCESS_KEY: caller.secretAccessKey, AWS_SESSION_TOKEN: caller.sessionToken });
  const t = await tokenSource(options, e)();
  const url = signedUrl(t.token);
  expect(url.host).toBe("kafka.eu-west-1.amazonaws.com");
  expect(url.searchParams.get("Action")).toBe("kafka-cluster:Connect");
  expect(keyIn(t.token)).toBe(caller.accessKeyId);
  expect(url.searchParams.get("X-Amz-Security-Token")).toBe(caller.sessionToken);
  expect(url.searchParams.get("X-Amz-Date")).toBe("20260101T000000Z");
  expect(t).toMatchObject({ expiresAtMs: T0 + 900_000, principal: caller.accessKeyId });
});

test("shared files: AWS_PROFILE in AWS_SHARED_CREDENTIALS_FILE, a [profile x] of AWS_CONFIG_FILE, and the `profile` option over the environment", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "creds"), "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = d\n\n[migration]\naws_access_key_id=AKIAMIGRATION\naws_secret_access_key=m\naws_session_token=tok\n");
  writeFileSync(join(dir, "config"), "[default]\nregion = eu-west-1\n[profile other]\n# a comment\naws_access_key_id = AKIAOTHER\naws_secret_access_key = o\n");
  const files = { AWS_SHARED_CREDENTIALS_FILE: join(dir, "creds"), AWS_CONFIG_FILE: join(dir, "config") };
  expect(keyIn((await tokenSource(options, world(files).e)()).token)).toBe("AKIADEFAULT");
  const migration = await tokenSource(options, world({ ...files, AWS_PROFILE: "migration" }).e)();
  expect(keyIn(migration.token)).toBe("AKIAMIGRATION");
  expect(signedUrl(migration.token).searchParams.get("X-Amz-Security-Token")).toBe("tok");
  expect(keyIn((await tokenSource(options, world({ ...files, AWS_PROFILE: "other" }).e)()).token)).toBe("AKIAOTHER");
  // the option names a profile: the environment's keys are not used
  expect(keyIn((await tokenSource({ ...options, profile: "other" }, world({ ...files, AWS_ACCESS_KEY_ID: "AKIAENV", AWS_SECRET_ACCESS_KEY: "e" }).e)()).token)).toBe("AKIAOTHER");
  // ~/.aws/credentials when no variable says otherwise
  const { e, home } = world();
  mkdirSync(join(home, ".aws"));
  writeFileSync(join(home, ".aws/credentials"), "[default]\naws_access_key_id = AKIAHOME\naws_secret_access_key = h\n");
  expect(keyIn((await tokenSource(options, e)()).token)).toBe("AKIAHOME");
});

test("shared files: a profile with role_arn and source_profile assumes the role (STS stand-in; the signature checked with botocore)", async () => {
  const sts = stsStandIn(() => ({ credentials: assumed, expiration: new Date(T0 + 60 * MIN) }), caller);
  stops.push(sts.stop);
  const dir = tempDir();
  writeFileSync(join(dir, "creds"), `[base]\naws_access_key_id = ${caller.accessKeyId}\naws_secret_access_key = ${caller.secretAccessKey}\naws_session_token = ${caller.sessionToken}\n`);
  writeFileSync(join(dir, "config"), "[profile msk]\nrole_arn = arn:aws:iam::123456789012:role/from-profile\nsource_profile = base\nrole_session_name = from-config\n");
  const t = await tokenSource(options, world({ AWS_SHARED_CREDENTIALS_FILE: join(dir, "creds"), AWS_CONFIG_FILE: join(dir, "config"), AWS_PROFILE: "msk", AWS_ENDPOINT_URL_STS: sts.url }).e)();
  expect(sts.received).toHaveLength(1);
  expect(sts.received[0]!.signatureOk).toBe(true);
  expect(Object.fromEntries(new URLSearchParams(sts.received[0]!.body))).toEqual({ Action: "AssumeRole", Version: "2011-06-15", RoleArn: "arn:aws:iam::123456789012:role/from-profile", RoleSessionName: "from-config" });
  expect(keyIn(t.token)).toBe(assumed.accessKeyId);
});

test("web identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, AssumeRoleWithWebIdentity unsigned, the file read again at each refresh", async () => {
  const sts = stsStandIn(() => ({ credentials: assumed, expiration: new Date(T0 + 60 * MIN) }));
  stops.push(sts.stop);
  const dir = tempDir();
  writeFileSync(join(dir, "token"), "eyJhbGciOi.first.jwt\n");
  const { e, clock } = world({ AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, "token"), AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/eks-klink", AWS_ROLE_SESSION_NAME: "pod-1", AWS_ENDPOINT_URL_STS: sts.url });
  const token = tokenSource(options, e);
  expect(keyIn((await token()).token)).toBe(assumed.accessKeyId);
  expect(sts.received[0]!.headers.authorization).toBeUndefined();
  expect(Object.fromEntries(new URLSearchParams(sts.received[0]!.body))).toEqual({ Action: "AssumeRoleWithWebIdentity", Version: "2011-06-15", RoleArn: "arn:aws:iam::123456789012:role/eks-klink", RoleSessionName: "pod-1", WebIdentityToken: "eyJhbGciOi.first.jwt" });
  writeFileSync(join(dir, "token"), "eyJhbGciOi.second.jwt\n"); // the kubelet rotated it
  clock.now = T0 + 56 * MIN; // 4 minutes before the role's credentials expire
  await token();
  expect(sts.received).toHaveLength(2);
  expect(new URLSearchParams(sts.received[1]!.body).get("WebIdentityToken")).toBe("eyJhbGciOi.second.jwt");
});

test("EC2 instance metadata: IMDSv2 session token, then the role's credentials (AWS_EC2_METADATA_SERVICE_ENDPOINT stand-in)", async () => {
  const imds = imdsStandIn("klink-instance-role", () => ({ ...assumed, expiration: new Date(T0 + 6 * 60 * MIN) }));
  stops.push(imds.stop);
  const t = await tokenSource(options, world({ AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url }).e)();
  expect(imds.received.map((r) => `${r.method} ${r.url}`)).toEqual(["PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/", "GET /latest/meta-data/iam/security-credentials/klink-instance-role"]);
  expect(keyIn(t.token)).toBe(assumed.accessKeyId);
  expect(signedUrl(t.token).searchParams.get("X-Amz-Security-Token")).toBe(assumed.sessionToken);
});

test("roleArn: the credentials found assume the role (STS AssumeRole signed with them, checked with botocore); the token is the role's", async () => {
  const sts = stsStandIn(() => ({ credentials: assumed, expiration: new Date(T0 + 60 * MIN) }), caller);
  stops.push(sts.stop);
  const { e } = world({ AWS_ACCESS_KEY_ID: caller.accessKeyId, AWS_SECRET_ACCESS_KEY: caller.secretAccessKey, AWS_SESSION_TOKEN: caller.sessionToken });
  const t = await tokenSource({ ...options, roleArn: "arn:aws:iam::123456789012:role/klink-msk", roleSessionName: "klink-test", stsEndpoint: sts.url }, e)();
  expect(sts.received[0]!.signatureOk).toBe(true);
  expect(sts.received[0]!.headers["x-amz-date"]).toBe("20260101T000000Z");
  expect(new URLSearchParams(sts.received[0]!.body).get("RoleSessionName")).toBe("klink-test");
  expect(keyIn(t.token)).toBe(assumed.accessKeyId);
  expect(t.principal).toBe(assumed.accessKeyId);
});

// --- refresh and expiry

test("refresh: a token is signed anew each time; temporary credentials are kept until 5 minutes before they expire, then fetched again", async () => {
  let n = 0;
  const imds = imdsStandIn("r", () => ({ ...assumed, accessKeyId: `ASIA${++n}`, expiration: new Date(T0 + n * 30 * MIN) }));
  stops.push(imds.stop);
  const { e, clock } = world({ AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url });
  const token = tokenSource(options, e);
  const first = await token();
  expect(first).toMatchObject({ principal: "ASIA1", expiresAtMs: T0 + 900_000 });
  clock.now = T0 + 12 * MIN; // librdkafka asks again at 80% of the token's lifetime
  const second = await token();
  expect(second).toMatchObject({ principal: "ASIA1", expiresAtMs: T0 + 27 * MIN }); // 900 s from now
  expect(second.token).not.toBe(first.token);
  expect(imds.received.filter((r) => r.url.endsWith("/r"))).toHaveLength(1);
  clock.now = T0 + 25 * MIN + 1; // less than 5 minutes left of ASIA1
  expect(await token()).toMatchObject({ principal: "ASIA2", expiresAtMs: T0 + 25 * MIN + 900_000 });
  expect(imds.received.filter((r) => r.url.endsWith("/r"))).toHaveLength(2);
});

test("expiry: a token never outlives the credentials that signed it", async () => {
  const sts = stsStandIn(() => ({ credentials: assumed, expiration: new Date(T0 + 10 * MIN) }), caller);
  stops.push(sts.stop);
  const { e } = world({ AWS_ACCESS_KEY_ID: caller.accessKeyId, AWS_SECRET_ACCESS_KEY: caller.secretAccessKey, AWS_SESSION_TOKEN: caller.sessionToken });
  expect((await tokenSource({ ...options, roleArn: "arn:aws:iam::123456789012:role/short", stsEndpoint: sts.url }, e)()).expiresAtMs).toBe(T0 + 10 * MIN);
  const env = world({ AWS_ACCESS_KEY_ID: "AKIA", AWS_SECRET_ACCESS_KEY: "s", AWS_SESSION_TOKEN: "t", AWS_CREDENTIAL_EXPIRATION: new Date(T0 + 2 * MIN).toISOString() });
  expect((await tokenSource(options, env.e)()).expiresAtMs).toBe(T0 + 2 * MIN);
});

test("refresh: when an early refresh fails, the credentials held are used while they last; then the failure is the error", async () => {
  let fail = false;
  const sts = stsStandIn(() => (fail ? { status: 503, code: "ServiceUnavailable", message: "try later" } : { credentials: assumed, expiration: new Date(T0 + 60 * MIN) }), caller);
  stops.push(sts.stop);
  const { e, clock } = world({ AWS_ACCESS_KEY_ID: caller.accessKeyId, AWS_SECRET_ACCESS_KEY: caller.secretAccessKey, AWS_SESSION_TOKEN: caller.sessionToken });
  const token = tokenSource({ ...options, roleArn: "arn:aws:iam::123456789012:role/r", stsEndpoint: sts.url }, e);
  await token();
  fail = true;
  clock.now = T0 + 57 * MIN;
  expect((await token()).expiresAtMs).toBe(T0 + 60 * MIN);
  clock.now = T0 + 60 * MIN;
  await expect(token()).rejects.toThrow(`STS AssumeRole of arn:aws:iam::123456789012:role/r at ${sts.url} (with the credentials from environment) failed: HTTP 503 ServiceUnavailable: try later`);
});

test("librdkafka's refresh request is answered with a token; a failure is reported to it", async () => {
  const imds = imdsStandIn("r", () => ({ ...assumed, expiration: new Date(T0 + 60 * MIN) }));
  stops.push(imds.stop);
  const auth = await create(options, context, world({ AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url }).e);
  expect(auth.properties).toMatchObject({ "security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER" });
  const calls: unknown[][] = [];
  const client = { isDestroyed: false, setOAuthBearerToken: (...a: unknown[]) => calls.push(["token", ...a]), setOAuthBearerTokenFailure: (...a: unknown[]) => calls.push(["failure", ...a]) } as unknown as Client;
  auth.onTokenRefresh!(client, "");
  while (!calls.length) await Bun.sleep(5);
  expect(calls[0]!.slice(0, 1)).toEqual(["token"]);
  expect(calls[0]!.slice(2)).toEqual([T0 + 900_000, assumed.accessKeyId]);
  expect(keyIn(calls[0]![1] as string)).toBe(assumed.accessKeyId);
  // the session token expires: librdkafka is told why, and keeps asking
  const w = world({ AWS_ACCESS_KEY_ID: "AKIA", AWS_SECRET_ACCESS_KEY: "s", AWS_SESSION_TOKEN: "t", AWS_CREDENTIAL_EXPIRATION: new Date(T0 + 6 * MIN).toISOString() });
  const expiring = await create(options, context, w.e);
  w.clock.now = T0 + 7 * MIN;
  calls.length = 0;
  expiring.onTokenRefresh!(client, "");
  while (!calls.length) await Bun.sleep(5);
  expect(calls).toEqual([["failure", "the AWS credentials from environment expired at 2026-01-01T00:06:00.000Z (60 s ago): their session token is no longer valid; renew them"]]);
});

// --- errors

test("no credentials: one line naming every source tried, also as klink's start-up error", async () => {
  const { e, home } = world();
  const message = `no AWS credentials found; tried: environment (AWS_ACCESS_KEY_ID not set); web identity (AWS_WEB_IDENTITY_TOKEN_FILE not set); profile default (not in ${home}/.aws/credentials nor ${home}/.aws/config); EC2 instance metadata at ${deadEndpoint} (`;
  await expect(tokenSource(options, e)()).rejects.toThrow(message);
  // and at start-up, where klink creates the plugin
  await expect(create(options, context, e)).rejects.toThrow(message);
});

test("expired session token: from the environment (AWS_CREDENTIAL_EXPIRATION), from the metadata service, and STS's ExpiredToken", async () => {
  const env = world({ AWS_ACCESS_KEY_ID: "AKIA", AWS_SECRET_ACCESS_KEY: "s", AWS_SESSION_TOKEN: "t", AWS_CREDENTIAL_EXPIRATION: "2025-12-31T23:00:00Z" });
  await expect(tokenSource(options, env.e)()).rejects.toThrow("the AWS credentials from environment expired at 2025-12-31T23:00:00.000Z (3600 s ago): their session token is no longer valid; renew them");
  const imds = imdsStandIn("old-role", () => ({ ...assumed, expiration: new Date(T0 - 1000) }));
  stops.push(imds.stop);
  await expect(tokenSource(options, world({ AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url }).e)()).rejects.toThrow("the AWS credentials from EC2 instance metadata (role old-role) expired at 2025-12-31T23:59:59.000Z (1 s ago)");
  const sts = stsStandIn(() => ({ status: 400, code: "ExpiredToken", message: "The security token included in the request is expired" }), caller);
  stops.push(sts.stop);
  const { e } = world({ AWS_ACCESS_KEY_ID: caller.accessKeyId, AWS_SECRET_ACCESS_KEY: caller.secretAccessKey, AWS_SESSION_TOKEN: caller.sessionToken });
  await expect(tokenSource({ ...options, roleArn: "arn:aws:iam::123456789012:role/r", stsEndpoint: sts.url }, e)()).rejects.toThrow(
    `STS AssumeRole of arn:aws:iam::123456789012:role/r at ${sts.url} (with the credentials from environment) failed: HTTP 400 ExpiredToken: The security token included in the request is expired: the session token of the calling credentials has expired; renew them`,
  );
});

test("STS and metadata failures: refused role, unreachable STS, no instance role, half-set environment", async () => {
  const sts = stsStandIn(() => ({ status: 403, code: "AccessDenied", message: "User: arn:aws:iam::123456789012:user/klink is not authorized to perform: sts:AssumeRole" }), caller);
  stops.push(sts.stop);
  const env = { AWS_ACCESS_KEY_ID: caller.accessKeyId, AWS_SECRET_ACCESS_KEY: caller.secretAccessKey, AWS_SESSION_TOKEN: caller.sessionToken };
  const role = "arn:aws:iam::123456789012:role/r";
  await expect(tokenSource({ ...options, roleArn: role, stsEndpoint: sts.url }, world(env).e)()).rejects.toThrow(`failed: HTTP 403 AccessDenied: User: arn:aws:iam::123456789012:user/klink is not authorized to perform: sts:AssumeRole`);
  await expect(tokenSource({ ...options, roleArn: role, stsEndpoint: deadEndpoint }, world(env).e)()).rejects.toThrow(`STS AssumeRole of ${role} at ${deadEndpoint} (with the credentials from environment) failed: `);
  const imds = imdsStandIn("", () => ({ ...assumed, expiration: new Date(T0 + 60 * MIN) }));
  stops.push(imds.stop);
  await expect(tokenSource(options, world({ AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url }).e)()).rejects.toThrow(
    `EC2 instance metadata at ${imds.url} (GET /latest/meta-data/iam/security-credentials/: HTTP 404 (no instance role attached?))`,
  );
  await expect(tokenSource(options, world({ AWS_ACCESS_KEY_ID: "AKIA" }).e)()).rejects.toThrow("the environment has AWS_ACCESS_KEY_ID but no AWS_SECRET_ACCESS_KEY: set both");
  await expect(tokenSource({ ...options, profile: "nope" }, world().e)()).rejects.toThrow("no AWS credentials for profile nope: it is not in");
  expect(() => tokenSource({ roleSessionName: "klink", tls: true }, world().e)).toThrow("no AWS region: set the plugin's `region` option or AWS_REGION");
});
