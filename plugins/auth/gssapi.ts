/**
 * auth/gssapi: Kerberos (SASL GSSAPI) with a keytab, or with the tickets of the default ticket
 * cache (kinit) when no keytab is given. librdkafka does GSSAPI through Cyrus SASL (Debian package
 * libsasl2-modules-gssapi-mit); klink's group-protocol client through the GSS-API library itself
 * (src/group/gssapi.ts). Both use the MIT Kerberos configuration as usual (/etc/krb5.conf or
 * KRB5_CONFIG).
 *
 * Cyrus SASL can only use the process's default credentials, so with a keytab this plugin points
 * them, for this klink process only, at an in-memory ticket cache it fills from the keytab at start
 * (KRB5CCNAME=MEMORY:..., the same cache the group client uses) and names the keytab as the client
 * keytab (KRB5_CLIENT_KTNAME), from which MIT Kerberos gets a new ticket when one nears its end. So
 * nothing runs kinit (librdkafka's relogin is turned off), the operator's own ticket cache is left
 * alone, and a wrong keytab fails `plan` and `run` at start, in one line. One consequence: one
 * Kerberos identity per klink process.
 */
import { CString, dlopen, FFIType, read } from "bun:ffi";
import { resolve } from "node:path";
import type { JsonSchema } from "../../src/config/schema.ts";
import { KerberosCredential, ticketCache } from "../../src/group/gssapi.ts";
import type { Auth, OptionProblem, PluginContext } from "../plugin.ts";
import { saslTlsSchema, saslTransport } from "./sasl.ts";
import { tlsProblems, type TlsOptions } from "./tls.ts";

export const name = "gssapi";
export const kind = "auth";

export interface GssapiOptions {
  principal: string;
  keytab?: string;
  serviceName: string;
  tls: boolean | TlsOptions;
}

export const optionsSchema: JsonSchema = {
  description:
    "Kerberos (SASL GSSAPI) with a keytab, or with the tickets kinit left in the default ticket cache. The MIT Kerberos configuration is /etc/krb5.conf or KRB5_CONFIG; the brokers' principals are <serviceName>/<host as in bootstrap.servers>@REALM. Needs the Debian packages libsasl2-modules-gssapi-mit and libgssapi-krb5-2.",
  type: "object",
  additionalProperties: false,
  required: ["principal"],
  properties: {
    principal: { description: "the Kerberos principal klink logs in as", type: "string", minLength: 1, examples: ["klink@EXAMPLE.COM"] },
    keytab: { description: "a keytab holding the principal's keys, relative to migration.yaml; without it, the default ticket cache is used (kinit before klink starts and keep it fresh)", type: "string", minLength: 1, examples: ["/etc/klink/klink.keytab"] },
    serviceName: { description: "the first part of the brokers' principals (Kafka's sasl.kerberos.service.name)", type: "string", minLength: 1, default: "kafka" },
    tls: saslTlsSchema,
  },
  examples: [{ principal: "klink@EXAMPLE.COM", keytab: "/etc/klink/klink.keytab", tls: false }, { principal: "klink@EXAMPLE.COM", tls: { ca: "/etc/kafka/ca.pem" } }],
};

export function check(options: GssapiOptions, context: PluginContext): OptionProblem[] {
  return typeof options.tls === "object" ? tlsProblems(options.tls, context, ["tls"]) : [];
}

/** The identity whose tickets this process's default credentials are (one per process: Cyrus SASL has no other). */
let processIdentity: string | null = null;

export function create(options: GssapiOptions, context: PluginContext): Auth {
  requireCyrusGssapi();
  const keytab = options.keytab ? resolve(context.configDir, options.keytab) : undefined;
  const serviceName = options.serviceName ?? "kafka";
  // gets the first ticket now (or checks the ticket cache has one): a wrong keytab or principal fails here, with the KDC's reason
  KerberosCredential.acquire({ principal: options.principal, ...(keytab ? { keytab } : {}) }).release();
  if (keytab) {
    const identity = { principal: options.principal, keytab };
    const label = `${options.principal} (keytab ${keytab})`;
    if (processIdentity !== null && processIdentity !== label) {
      throw new Error(`auth/gssapi: one klink process logs in to Kerberos as one identity, and both ${processIdentity} and ${label} are asked for: use the same principal and keytab for both clusters`);
    }
    if (processIdentity === null) {
      // once: later starts of the plugin (klink reconnects) must not write the environment while librdkafka's threads read it
      setProcessEnvironment("KRB5CCNAME", ticketCache(identity));
      setProcessEnvironment("KRB5_CLIENT_KTNAME", keytab);
      processIdentity = label;
    }
  }
  return {
    properties: {
      ...saslTransport(options.tls, context),
      "sasl.mechanism": "GSSAPI",
      "sasl.kerberos.service.name": serviceName,
      "sasl.kerberos.principal": options.principal,
      ...(keytab ? { "sasl.kerberos.keytab": keytab } : {}),
      // no kinit: with a keytab the GSS-API library renews the tickets itself; without one, the operator does
      "sasl.kerberos.min.time.before.relogin": 0,
    },
  };
}

/**
 * Sets a variable in the C library's environment, which Kerberos reads (Bun's process.env is a
 * copy it does not see), and in process.env for the processes klink starts. Called once, before
 * any librdkafka client exists, so no other thread reads the environment meanwhile.
 */
function setProcessEnvironment(name: string, value: string): void {
  const libc = dlopen("libc.so.6", { setenv: { args: [FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 } });
  try {
    if (libc.symbols.setenv(Buffer.from(`${name}\0`), Buffer.from(`${value}\0`), 1) !== 0) throw new Error(`cannot set ${name} in the environment`);
  } finally {
    libc.close();
  }
  process.env[name] = value;
}

/**
 * librdkafka's GSSAPI is a Cyrus SASL module of its own Debian package: without it every connection
 * would fail with "No worthy mechs found". Asks Cyrus SASL (the library librdkafka uses) which
 * mechanisms it has.
 */
function requireCyrusGssapi(): void {
  const sasl = dlopen("libsasl2.so.2", {
    sasl_client_init: { args: [FFIType.ptr], returns: FFIType.i32 },
    sasl_global_listmech: { args: [], returns: FFIType.ptr },
  });
  try {
    sasl.symbols.sasl_client_init(null); // reference-counted: librdkafka's own init is unaffected
    const list = sasl.symbols.sasl_global_listmech();
    const mechanisms: string[] = [];
    for (let i = 0; list && i < 64; i++) {
      const name = read.ptr(list, i * 8);
      if (!name) break;
      mechanisms.push(new CString(name as never).toString());
    }
    if (!mechanisms.includes("GSSAPI")) {
      throw new Error(`Cyrus SASL, which librdkafka uses, has no GSSAPI mechanism (it has: ${mechanisms.join(", ") || "none"}): install the Debian package libsasl2-modules-gssapi-mit`);
    }
  } finally {
    sasl.close();
  }
}
