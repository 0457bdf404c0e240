/**
 * Group-client settings for the test clusters' listeners, made by klink's own auth plugins
 * (the same librdkafka properties klink's librdkafka clients get), and unsecured JWTs for the
 * source's OAUTHBEARER listener.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OAuthToken, PluginContext } from "../../plugins/plugin.ts";
import * as oauthbearer from "../../plugins/auth/oauthbearer.ts";
import * as sasl from "../../plugins/auth/sasl.ts";
import * as tls from "../../plugins/auth/tls.ts";
import type { GroupClientSettings } from "../../src/group/settings.ts";
import type { KafkaCluster } from "../harness/cluster.ts";

export type GroupListener = "plaintext" | "scram-sha-512" | "scram-sha-256" | "mtls-pem" | "mtls-p12" | "oauthbearer";

export function pluginContext(dir = mkdtempSync(join(tmpdir(), "klink-group-"))): PluginContext {
  return { configFile: join(dir, "migration.yaml"), configDir: dir, linkName: "group-test", readOnly: false };
}

/** An unsecured JWT (`alg: none`) for `sub`, as the harness's OAUTHBEARER listener accepts; base64 without padding. */
export function unsecuredJwt(sub: string, lifetimeSeconds: number): OAuthToken {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64").replace(/=+$/, "");
  const now = Math.floor(Date.now() / 1000);
  return { token: `${b64({ alg: "none" })}.${b64({ sub, iat: now, exp: now + lifetimeSeconds })}.`, expiresAtMs: (now + lifetimeSeconds) * 1000, principal: sub };
}

/** A token command for the oauthbearer plugin: prints an unsecured JWT for `sub` lasting `lifetimeSeconds`. */
export function tokenCommand(sub: string, lifetimeSeconds: number): { dir: string; command: string } {
  const dir = mkdtempSync(join(tmpdir(), "klink-group-oauth-"));
  writeFileSync(
    join(dir, "token.sh"),
    `#!/bin/sh
now=$(date +%s)
b64() { printf '%s' "$1" | base64 | tr -d '=\\n'; }
printf '%s.%s.\\n' "$(b64 '{"alg":"none"}')" "$(b64 "{\\"sub\\":\\"${sub}\\",\\"iat\\":$now,\\"exp\\":$((now + ${lifetimeSeconds}))}")"
`,
  );
  return { dir, command: "sh token.sh" };
}

/** Settings for one of the cluster's listeners, built by klink's auth plugins. */
export function groupSettings(c: KafkaCluster, listener: GroupListener, extra: Record<string, string | number> = {}): GroupClientSettings {
  const s = c.security;
  if (listener !== "plaintext" && !s) throw new Error(`cluster ${c.name} has no ${listener} listener`);
  const ctx = pluginContext();
  switch (listener) {
    case "plaintext":
      return { config: { "bootstrap.servers": c.bootstrap, ...extra } };
    case "scram-sha-512":
    case "scram-sha-256": {
      const mechanism = listener === "scram-sha-512" ? "SCRAM-SHA-512" : "SCRAM-SHA-256";
      const user = listener === "scram-sha-512" ? "admin" : "alice";
      const auth = sasl.create({ mechanism, username: user, password: s!.users[user], tls: { ca: s!.caPem, verifyCertificate: true, verifyHostname: true } }, ctx);
      return { config: { "bootstrap.servers": s!.saslSslBootstrap, ...auth.properties, ...extra } };
    }
    case "mtls-pem": {
      const auth = tls.create({ ca: s!.caPem, certificate: s!.clientCertPem, key: s!.clientKeyPem, verifyCertificate: true, verifyHostname: true }, ctx);
      return { config: { "bootstrap.servers": s!.sslBootstrap, ...auth.properties, ...extra } };
    }
    case "mtls-p12": {
      const auth = tls.create({ ca: s!.caPem, keystore: s!.clientP12, keystorePassword: s!.clientP12Password, verifyCertificate: true, verifyHostname: true }, ctx);
      return { config: { "bootstrap.servers": s!.sslBootstrap, ...auth.properties, ...extra } };
    }
    case "oauthbearer": {
      const { dir, command } = tokenCommand("admin", 300);
      const auth = oauthbearer.create({ command, lifetimeSeconds: 3600, timeoutSeconds: 30, tls: false }, pluginContext(dir));
      return { config: { "bootstrap.servers": s!.oauthBootstrap, ...auth.properties, ...extra }, token: auth.token };
    }
  }
}
