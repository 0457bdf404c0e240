/**
 * auth/sasl: SASL with a user name and password (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), over TLS
 * unless `tls: false`. Maps to librdkafka's security.protocol, sasl.mechanism, sasl.username,
 * sasl.password (and ssl.* from the `tls` options).
 */
import type { JsonSchema } from "../../src/config/schema.ts";
import type { Auth, OptionProblem, PluginContext } from "../plugin.ts";
import { tlsOptionsSchema, tlsProblems, tlsProperties, type TlsOptions } from "./tls.ts";

export const name = "sasl";
export const kind = "auth";

export interface SaslOptions {
  mechanism: "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512";
  username: string;
  password: string;
  tls: boolean | TlsOptions;
}

/** `tls:` of the SASL plugins: true (system trust store), false (plaintext), or the tls plugin's options. */
export const saslTlsSchema: JsonSchema = {
  description: "TLS to the brokers: `true` (verify with the system's trust store), `false` (SASL_PLAINTEXT: the password crosses the network in clear with PLAIN), or the options of the tls plugin",
  default: true,
  oneOf: [{ type: "boolean" }, tlsOptionsSchema],
};

export const optionsSchema: JsonSchema = {
  description: "SASL PLAIN or SCRAM with a user name and password, over TLS by default.",
  type: "object",
  additionalProperties: false,
  required: ["username", "password"],
  properties: {
    mechanism: { description: "the SASL mechanism the brokers' listener accepts", type: "string", enum: ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"], default: "SCRAM-SHA-512" },
    username: { description: "the Kafka user klink connects as", type: "string", minLength: 1, examples: ["klink"] },
    password: { description: "its password: use ${env:NAME} or ${file:PATH} rather than writing it here", type: "string", minLength: 1, writeOnly: true, examples: ["${env:KLINK_SOURCE_PASSWORD}"] },
    tls: saslTlsSchema,
  },
  examples: [
    { mechanism: "SCRAM-SHA-512", username: "klink", password: "${env:KLINK_SOURCE_PASSWORD}", tls: { ca: "/etc/kafka/ca.pem" } },
    { mechanism: "PLAIN", username: "klink", password: "${file:/run/secrets/kafka-password}", tls: false },
  ],
};

export function check(options: SaslOptions, context: PluginContext): OptionProblem[] {
  return typeof options.tls === "object" ? tlsProblems(options.tls, context, ["tls"]) : [];
}

/** security.protocol and ssl.* for a SASL plugin's `tls` option. */
export function saslTransport(tls: boolean | TlsOptions | undefined, context: PluginContext) {
  if (tls === false) return { "security.protocol": "SASL_PLAINTEXT" };
  const options: TlsOptions = tls === true || tls === undefined ? { verifyCertificate: true, verifyHostname: true } : tls;
  return { "security.protocol": "SASL_SSL", ...tlsProperties(options, context) };
}

export function create(options: SaslOptions, context: PluginContext): Auth {
  return {
    properties: {
      ...saslTransport(options.tls, context),
      "sasl.mechanism": options.mechanism,
      "sasl.username": options.username,
      "sasl.password": options.password,
    },
  };
}
