/**
 * auth/tls: TLS to the brokers, verifying their certificates, and optionally presenting a
 * client certificate (mTLS) as PEM files or a PKCS#12 keystore. Maps to librdkafka's ssl.*.
 * The sasl and oauthbearer plugins take the same options under their `tls` key.
 */
import { accessSync, constants } from "node:fs";
import { resolve } from "node:path";
import type { JsonSchema } from "../../src/config/schema.ts";
import type { ClientConfig } from "../../src/rdkafka/config.ts";
import type { Auth, OptionProblem, PluginContext } from "../plugin.ts";

export const name = "tls";
export const kind = "auth";

export interface TlsOptions {
  ca?: string;
  certificate?: string;
  key?: string;
  keyPassword?: string;
  keystore?: string;
  keystorePassword?: string;
  verifyCertificate: boolean;
  verifyHostname: boolean;
}

/**
 * The options, reused by sasl and oauthbearer as their `tls` (inside a oneOf, where JSON Schema
 * defaults are not applied: absent booleans mean true, see tlsProperties).
 */
export const tlsOptionsSchema: JsonSchema = {
  title: "the options of auth/tls",
  type: "object",
  additionalProperties: false,
  properties: {
    ca: { description: "PEM file of the CA(s) that signed the brokers' certificates (default: the system's trust store)", type: "string", minLength: 1, examples: ["/etc/kafka/ca.pem"] },
    certificate: { description: "mTLS: PEM file of klink's client certificate (with `key`)", type: "string", minLength: 1, examples: ["/etc/kafka/klink.pem"] },
    key: { description: "mTLS: PEM file of the client certificate's private key", type: "string", minLength: 1, examples: ["/etc/kafka/klink.key"] },
    keyPassword: { description: "password of an encrypted `key`", type: "string", writeOnly: true },
    keystore: { description: "mTLS: a PKCS#12 file with the client certificate and key, instead of `certificate` and `key`", type: "string", minLength: 1, examples: ["/etc/kafka/klink.p12"] },
    keystorePassword: { description: "password of the `keystore`", type: "string", writeOnly: true },
    verifyCertificate: { description: "verify the brokers' certificates (turn off only for a test; default: true)", type: "boolean" },
    verifyHostname: { description: "check that a broker's certificate names the host klink connected to (default: true)", type: "boolean" },
  },
  dependentRequired: { certificate: ["key"], key: ["certificate"], keyPassword: ["key"], keystorePassword: ["keystore"] },
};

const { title: _nestedTitle, ...asPlugin } = tlsOptionsSchema;

export const optionsSchema: JsonSchema = {
  ...asPlugin,
  description: "TLS: verifies the brokers' certificates; with a client certificate (PEM or PKCS#12), mutual TLS.",
  properties: {
    ...(tlsOptionsSchema.properties as object),
    verifyCertificate: { description: "verify the brokers' certificates (turn off only for a test)", type: "boolean", default: true },
    verifyHostname: { description: "check that a broker's certificate names the host klink connected to", type: "boolean", default: true },
  },
  examples: [
    { ca: "/etc/kafka/ca.pem" },
    { ca: "/etc/kafka/ca.pem", certificate: "/etc/kafka/klink.pem", key: "/etc/kafka/klink.key" },
    { ca: "/etc/kafka/ca.pem", keystore: "/etc/kafka/klink.p12", keystorePassword: "${env:KLINK_KEYSTORE_PASSWORD}" },
  ],
};

export function check(options: TlsOptions, context: PluginContext): OptionProblem[] {
  return tlsProblems(options, context, []);
}

/** Files that cannot be read, and a keystore given together with PEM files. */
export function tlsProblems(options: TlsOptions, context: PluginContext, base: Array<string | number>): OptionProblem[] {
  const problems: OptionProblem[] = [];
  if (options.keystore && options.certificate) {
    problems.push({ path: [...base, "keystore"], message: "give either `keystore` (PKCS#12) or `certificate` and `key` (PEM), not both" });
  }
  for (const key of ["ca", "certificate", "key", "keystore"] as const) {
    const file = options[key];
    if (!file) continue;
    const path = resolve(context.configDir, file);
    try {
      accessSync(path, constants.R_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push({ path: [...base, key], message: `cannot read ${path}: ${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code}` });
    }
  }
  return problems;
}

/** librdkafka ssl.* properties for these options. */
export function tlsProperties(options: TlsOptions, context: PluginContext): ClientConfig {
  const file = (f: string) => resolve(context.configDir, f);
  const p: ClientConfig = {
    "enable.ssl.certificate.verification": options.verifyCertificate !== false,
    "ssl.endpoint.identification.algorithm": options.verifyHostname === false ? "none" : "https",
  };
  if (options.ca) p["ssl.ca.location"] = file(options.ca);
  if (options.certificate) p["ssl.certificate.location"] = file(options.certificate);
  if (options.key) p["ssl.key.location"] = file(options.key);
  if (options.keyPassword !== undefined) p["ssl.key.password"] = options.keyPassword;
  if (options.keystore) p["ssl.keystore.location"] = file(options.keystore);
  if (options.keystorePassword !== undefined) p["ssl.keystore.password"] = options.keystorePassword;
  return p;
}

export function create(options: TlsOptions, context: PluginContext): Auth {
  return { properties: { "security.protocol": "SSL", ...tlsProperties(options, context) } };
}
