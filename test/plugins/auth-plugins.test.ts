import { expect, test } from "bun:test";
import { join } from "node:path";
import * as oauthbearer from "../../plugins/auth/oauthbearer.ts";
import * as sasl from "../../plugins/auth/sasl.ts";
import * as tls from "../../plugins/auth/tls.ts";
import * as manual from "../../plugins/cutover/manual.ts";
import * as auto from "../../plugins/cutover/auto.ts";
import type { Client } from "../../plugins/plugin.ts";
import { tempDir } from "../config/cli.ts";

const context = (dir = "/etc/klink") => ({ configFile: join(dir, "migration.yaml"), configDir: dir, linkName: "t", readOnly: true });

/** A JWT with these claims (unsigned: klink only reads `sub` and `exp`). */
const jwt = (claims: object) => ["e30", Buffer.from(JSON.stringify(claims)).toString("base64url"), "sig"].join(".");

test("sasl: librdkafka properties, TLS by default, plaintext only when asked", () => {
  expect(sasl.create({ mechanism: "SCRAM-SHA-256", username: "u", password: "p", tls: true }, context()).properties).toEqual({
    "security.protocol": "SASL_SSL",
    "enable.ssl.certificate.verification": true,
    "ssl.endpoint.identification.algorithm": "https",
    "sasl.mechanism": "SCRAM-SHA-256",
    "sasl.username": "u",
    "sasl.password": "p",
  });
  expect(sasl.create({ mechanism: "PLAIN", username: "u", password: "p", tls: false }, context()).properties["security.protocol"]).toBe("SASL_PLAINTEXT");
});

test("tls: paths resolved against the YAML's directory, PKCS#12 and verification switches", () => {
  expect(tls.create({ ca: "certs/ca.pem", keystore: "/abs/k.p12", keystorePassword: "pw", verifyCertificate: true, verifyHostname: false }, context()).properties).toEqual({
    "security.protocol": "SSL",
    "enable.ssl.certificate.verification": true,
    "ssl.endpoint.identification.algorithm": "none",
    "ssl.ca.location": "/etc/klink/certs/ca.pem",
    "ssl.keystore.location": "/abs/k.p12",
    "ssl.keystore.password": "pw",
  });
});

test("oauthbearer: a JWT gives expiry and principal; a JSON token response and a plain token work too", () => {
  const now = 1_700_000_000_000;
  expect(oauthbearer.parseToken(jwt({ sub: "svc-klink", exp: 1_700_000_600 }), { lifetimeSeconds: 3600 }, now)).toEqual({ token: jwt({ sub: "svc-klink", exp: 1_700_000_600 }), expiresAtMs: 1_700_000_600_000, principal: "svc-klink" });
  expect(oauthbearer.parseToken('{"access_token":"opaque","expires_in":120}', { principal: "klink", lifetimeSeconds: 3600 }, now)).toEqual({ token: "opaque", expiresAtMs: now + 120_000, principal: "klink" });
  expect(oauthbearer.parseToken("opaque", { principal: "klink", lifetimeSeconds: 60 }, now).expiresAtMs).toBe(now + 60_000);
  expect(() => oauthbearer.parseToken("opaque", { lifetimeSeconds: 60 }, now)).toThrow("set the plugin's `principal` option");
  expect(() => oauthbearer.parseToken(jwt({ sub: "svc-klink", exp: 1_699_999_940 }), { lifetimeSeconds: 3600 }, now)).toThrow("the token expired at 2023-11-14T22:12:20.000Z (60 s ago)");
});

/** A stand-in for the librdkafka client: records what the plugin answered. */
function fakeClient() {
  const calls: unknown[][] = [];
  const client = {
    setOAuthBearerToken: (...a: unknown[]) => void calls.push(["token", ...a]),
    setOAuthBearerTokenFailure: (...a: unknown[]) => void calls.push(["failure", ...a]),
  } as unknown as Client;
  return { client, calls, settled: async () => { while (calls.length === 0) await Bun.sleep(5); } };
}

test("oauthbearer: a refresh request is answered with the command's token", async () => {
  const token = jwt({ sub: "svc-klink", exp: 4_000_000_000 });
  const auth = oauthbearer.create({ command: `printf '%s' '${token}'`, lifetimeSeconds: 3600, timeoutSeconds: 30, tls: true }, context(tempDir()));
  expect(auth.properties["sasl.mechanism"]).toBe("OAUTHBEARER");
  const { client, calls, settled } = fakeClient();
  auth.onTokenRefresh!(client, "");
  await settled();
  expect(calls).toEqual([["token", token, 4_000_000_000_000, "svc-klink"]]);
});

test("oauthbearer: a failing command is reported to librdkafka, which retries later", async () => {
  const auth = oauthbearer.create({ command: "echo 'vault: permission denied' >&2; exit 3", lifetimeSeconds: 3600, timeoutSeconds: 30, tls: true }, context(tempDir()));
  const { client, calls, settled } = fakeClient();
  auth.onTokenRefresh!(client, "");
  await settled();
  expect(calls).toEqual([["failure", "token command exited with 3: vault: permission denied"]]);
});

test("oauthbearer: a token that librdkafka refuses, or that arrives after the client was closed, throws nowhere", async () => {
  const auth = oauthbearer.create({ command: `printf '%s' '${jwt({ sub: "svc-klink", exp: 4_000_000_000 })}'`, lifetimeSeconds: 3600, timeoutSeconds: 30, tls: true }, context(tempDir()));
  // setOAuthBearerToken reports librdkafka's refusal itself, then throws: that must not become an unhandled rejection
  let refused = 0;
  const refusing = { isDestroyed: false, setOAuthBearerToken: () => { refused++; throw new Error("refused"); }, setOAuthBearerTokenFailure: () => {} } as unknown as Client;
  auth.onTokenRefresh!(refusing, "");
  while (refused === 0) await Bun.sleep(5);
  const { client, calls } = fakeClient();
  Object.defineProperty(client, "isDestroyed", { value: true });
  auth.onTokenRefresh!(client, "");
  await Bun.sleep(200);
  expect(calls).toEqual([]);
});

test("oauthbearer: a token file relative to the YAML, read at each refresh", async () => {
  const dir = tempDir({ token: "first\n" });
  const options = { file: "token", principal: "klink", lifetimeSeconds: 3600, timeoutSeconds: 30, tls: true };
  expect((await oauthbearer.fetchToken(options, context(dir))).token).toBe("first");
  await Bun.write(join(dir, "token"), "second");
  expect((await oauthbearer.fetchToken(options, context(dir))).token).toBe("second");
});

test("cutover/manual: moves only on request, and says what it waits for", () => {
  const policy = manual.create();
  expect(policy.handOff({ group: "billing", sourceMembers: 0, targetMembers: 3, requested: false })).toEqual({ go: false, reason: "waiting for `klink handoff billing`" });
  expect(policy.handOff({ group: "billing", sourceMembers: 0, targetMembers: 3, requested: true })).toEqual({ go: true });
  expect(policy.promote({ topic: "orders", state: "consumers-moving", requested: false, sinceLastSourceWriteMs: null, groupsOnSource: 0 })).toEqual({ go: false, reason: "waiting for `klink promote orders`" });
});

test("cutover/auto: hands off at once; promotes after the quiet time with no group left on the source", () => {
  const policy = auto.create({ quietSeconds: 60 });
  expect(policy.handOff({ group: "billing", sourceMembers: 0, targetMembers: 3, requested: false })).toEqual({ go: true });
  const topic = { topic: "orders", state: "dual-write" as const, requested: false, groupsOnSource: 0 };
  expect(policy.promote({ ...topic, sinceLastSourceWriteMs: 5_000 })).toEqual({ go: false, reason: "a producer wrote to orders on the source 5 s ago (promote after 60 s of quiet)" });
  expect(policy.promote({ ...topic, sinceLastSourceWriteMs: 5_000, groupsOnSource: 1 }).go).toBe(false);
  expect(policy.promote({ ...topic, sinceLastSourceWriteMs: 61_000 })).toEqual({ go: true });
  expect(policy.promote({ ...topic, sinceLastSourceWriteMs: null })).toEqual({ go: true });
  expect(auto.create({ promote: false }).promote({ ...topic, sinceLastSourceWriteMs: null })).toEqual({ go: false, reason: "waiting for `klink promote orders`" });
});
