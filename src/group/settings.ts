/**
 * The group client takes the same settings as klink's librdkafka clients: the librdkafka
 * properties a cluster's auth plugin and migration.yaml produce (src/config/clients.ts), plus the
 * auth plugin's token function for OAUTHBEARER. GSSAPI (Kerberos) takes sasl.kerberos.service.name,
 * sasl.kerberos.principal and sasl.kerberos.keytab as librdkafka does. `parseSettings` turns them into what a
 * connection needs, reading certificate files once.
 *
 * Security properties (security.*, ssl.*, sasl.*) this client does not implement are refused
 * with an error naming the property, so a connection is never weaker than librdkafka's would be.
 * Other properties tune librdkafka's own fetching and producing and are ignored here.
 */
import { readFileSync, statSync } from "node:fs";
import type { ClientConfig } from "../rdkafka/config.ts";
import type { OAuthToken } from "../../plugins/plugin.ts";
import type { GssapiSettings } from "./sasl-gssapi.ts";

export interface GroupClientSettings {
  /** librdkafka properties, e.g. clientSettings(...).config. */
  config: ClientConfig;
  /** OAUTHBEARER: a fresh token, asked for on every new connection (the auth plugin's `token`). */
  token?: () => Promise<OAuthToken>;
}

export type SaslMechanism = "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512" | "OAUTHBEARER" | "GSSAPI";

export interface BrokerAddress {
  host: string;
  port: number;
}

export interface TlsSettings {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  passphrase?: string;
  pfx?: Buffer;
  verifyCertificate: boolean;
  verifyHostname: boolean;
}

export interface SaslSettings {
  mechanism: SaslMechanism;
  username?: string;
  password?: string;
  token?: () => Promise<OAuthToken>;
  kerberos?: GssapiSettings;
}

export interface ConnectSettings {
  bootstrap: BrokerAddress[];
  clientId: string;
  tls: TlsSettings | null;
  sasl: SaslSettings | null;
  /** librdkafka's socket.timeout.ms: how long a request may wait for its response. */
  requestTimeoutMs: number;
  /** librdkafka's socket.connection.setup.timeout.ms: TCP + TLS + SASL. */
  connectTimeoutMs: number;
}

/** Thrown for settings this client cannot honour; the message names the property. */
export class SettingsError extends Error {
  override name = "SettingsError";
}

/** Security properties that are understood here (all others under security./ssl./sasl. are refused). */
const SUPPORTED = new Set([
  "security.protocol",
  "sasl.mechanism",
  "sasl.mechanisms",
  "sasl.username",
  "sasl.password",
  "sasl.oauthbearer.method",
  "sasl.kerberos.service.name",
  "sasl.kerberos.principal",
  "sasl.kerberos.keytab",
  // librdkafka's kinit refresh: this client gets and renews tickets through the GSS-API library itself
  "sasl.kerberos.kinit.cmd",
  "sasl.kerberos.min.time.before.relogin",
  "ssl.ca.location",
  "ssl.ca.pem",
  "ssl.certificate.location",
  "ssl.certificate.pem",
  "ssl.key.location",
  "ssl.key.pem",
  "ssl.key.password",
  "ssl.keystore.location",
  "ssl.keystore.password",
  "ssl.endpoint.identification.algorithm",
  "enable.ssl.certificate.verification",
]);

const SECURITY = /^(security|ssl|sasl)\.|^enable\.(ssl|sasl)\./;

export function parseSettings(settings: GroupClientSettings): ConnectSettings {
  const c = settings.config;
  for (const key of Object.keys(c)) {
    if (c[key] === undefined) continue;
    if (SECURITY.test(key) && !SUPPORTED.has(key)) {
      throw new SettingsError(`librdkafka property '${key}' is not supported by klink's group-protocol client (it supports: ${[...SUPPORTED].join(", ")})`);
    }
  }
  const str = (key: string): string | undefined => (c[key] === undefined ? undefined : String(c[key]));

  const servers = str("bootstrap.servers") ?? str("metadata.broker.list");
  if (!servers) throw new SettingsError("'bootstrap.servers' is not set");
  const bootstrap = servers.split(",").map((s) => s.trim()).filter(Boolean).map((s) => parseAddress(s, "bootstrap.servers"));

  const protocol = (str("security.protocol") ?? "plaintext").toLowerCase();
  if (!["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"].includes(protocol)) {
    throw new SettingsError(`'security.protocol' must be plaintext, ssl, sasl_plaintext or sasl_ssl, not '${protocol}'`);
  }
  const tls = protocol === "ssl" || protocol === "sasl_ssl" ? tlsSettings(c, str) : null;
  const sasl = protocol.startsWith("sasl_") ? saslSettings(str, settings.token) : null;

  return {
    bootstrap,
    clientId: str("client.id") ?? "klink",
    tls,
    sasl,
    requestTimeoutMs: positive(c, "socket.timeout.ms", 60_000),
    connectTimeoutMs: positive(c, "socket.connection.setup.timeout.ms", 30_000),
  };
}

/** "host:port", "[::1]:9092" or "SASL_SSL://host:port" (librdkafka accepts a protocol prefix). */
export function parseAddress(text: string, property: string): BrokerAddress {
  const bare = text.replace(/^[a-z_]+:\/\//i, "");
  const m = bare.match(/^\[([^\]]+)\]:(\d+)$/) ?? bare.match(/^([^:]+):(\d+)$/);
  if (!m) throw new SettingsError(`'${property}': '${text}' is not host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}

function positive(c: ClientConfig, key: string, fallback: number): number {
  if (c[key] === undefined) return fallback;
  const n = Number(c[key]);
  if (!Number.isFinite(n) || n <= 0) throw new SettingsError(`'${key}' must be a positive number of milliseconds, not '${c[key]}'`);
  return n;
}

function bool(c: ClientConfig, key: string, fallback: boolean): boolean {
  const v = c[key];
  if (v === undefined) return fallback;
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  throw new SettingsError(`'${key}' must be true or false, not '${v}'`);
}

function readPem(path: string, key: string): Buffer {
  try {
    if (statSync(path).isDirectory()) throw new SettingsError(`'${key}': ${path} is a directory; give a PEM file`);
    return readFileSync(path);
  } catch (err) {
    if (err instanceof SettingsError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new SettingsError(`'${key}': cannot read ${path}: ${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : String(err)}`);
  }
}

function tlsSettings(c: ClientConfig, str: (k: string) => string | undefined): TlsSettings {
  const algorithm = (str("ssl.endpoint.identification.algorithm") ?? "https").toLowerCase();
  if (algorithm !== "https" && algorithm !== "none") {
    throw new SettingsError(`'ssl.endpoint.identification.algorithm' must be https or none, not '${algorithm}'`);
  }
  const tls: TlsSettings = {
    verifyCertificate: bool(c, "enable.ssl.certificate.verification", true),
    verifyHostname: algorithm === "https",
  };
  const ca = str("ssl.ca.location");
  if (ca === "probe") throw new SettingsError("'ssl.ca.location': 'probe' is not supported: give a PEM file, or leave it unset for the default trust store");
  if (ca) tls.ca = readPem(ca, "ssl.ca.location");
  if (str("ssl.ca.pem")) tls.ca = Buffer.from(str("ssl.ca.pem")!);

  const cert = str("ssl.certificate.location");
  const key = str("ssl.key.location");
  if (cert) tls.cert = readPem(cert, "ssl.certificate.location");
  if (str("ssl.certificate.pem")) tls.cert = Buffer.from(str("ssl.certificate.pem")!);
  if (key) tls.key = readPem(key, "ssl.key.location");
  if (str("ssl.key.pem")) tls.key = Buffer.from(str("ssl.key.pem")!);
  if (!tls.cert !== !tls.key) {
    throw new SettingsError(tls.cert ? "'ssl.certificate.location' is set without 'ssl.key.location'" : "'ssl.key.location' is set without 'ssl.certificate.location'");
  }
  const keystore = str("ssl.keystore.location");
  if (keystore) {
    if (tls.cert) throw new SettingsError("give either 'ssl.keystore.location' or 'ssl.certificate.location' and 'ssl.key.location', not both");
    tls.pfx = readPem(keystore, "ssl.keystore.location");
    tls.passphrase = str("ssl.keystore.password");
  } else if (str("ssl.key.password") !== undefined) {
    tls.passphrase = str("ssl.key.password");
  }
  return tls;
}

function saslSettings(str: (k: string) => string | undefined, token: GroupClientSettings["token"]): SaslSettings {
  const mechanism = (str("sasl.mechanism") ?? str("sasl.mechanisms") ?? "GSSAPI").toUpperCase();
  if (mechanism === "PLAIN" || mechanism === "SCRAM-SHA-256" || mechanism === "SCRAM-SHA-512") {
    const username = str("sasl.username");
    const password = str("sasl.password");
    if (!username) throw new SettingsError(`'sasl.username' is required for SASL ${mechanism}`);
    if (password === undefined) throw new SettingsError(`'sasl.password' is required for SASL ${mechanism}`);
    return { mechanism, username, password };
  }
  if (mechanism === "OAUTHBEARER") {
    const method = (str("sasl.oauthbearer.method") ?? "default").toLowerCase();
    if (method !== "default") throw new SettingsError(`'sasl.oauthbearer.method' = '${method}' is not supported: give the group client a token function (the auth plugin's \`token\`)`);
    if (!token) throw new SettingsError("SASL OAUTHBEARER needs a token function (the auth plugin's `token`); none was given");
    return { mechanism, token };
  }
  if (mechanism === "GSSAPI") {
    const keytab = str("sasl.kerberos.keytab");
    const principal = str("sasl.kerberos.principal");
    if (keytab && !principal) throw new SettingsError("'sasl.kerberos.keytab' is set without 'sasl.kerberos.principal': which principal of the keytab to log in as");
    return {
      mechanism,
      kerberos: { serviceName: str("sasl.kerberos.service.name") ?? "kafka", ...(keytab ? { keytab, principal } : {}) },
    };
  }
  throw new SettingsError(`'sasl.mechanism' ${mechanism} is not supported by klink's group-protocol client (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER, GSSAPI)`);
}
