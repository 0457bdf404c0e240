/**
 * SASL GSSAPI (RFC 4752) over Kafka's SaslAuthenticate, with Kerberos from gssapi.ts: security
 * context tokens until the context is established (with mutual authentication, the broker proves
 * it holds the service's key), then the security-layer negotiation: the broker offers layers in a
 * wrapped 4-byte message, the client picks "no security layer" (Kafka protects nothing further
 * with GSSAPI; TLS, if any, is below) and answers wrapped, without an authorization id.
 */
import { ConnectionError } from "./errors.ts";
import { GssContext, KerberosCredential, KerberosError, type KerberosIdentity } from "./gssapi.ts";

const NO_SECURITY_LAYER = 1;

export interface GssapiSettings extends KerberosIdentity {
  /** sasl.kerberos.service.name: the first part of the broker's principal (kafka/host@REALM). */
  serviceName: string;
}

/** Runs the exchange; `step` sends one SaslAuthenticate and returns the broker's bytes. Returns the last response. */
export async function gssapiExchange<R extends { authBytes: Uint8Array }>(broker: string, host: string, settings: GssapiSettings, step: (bytes: Uint8Array) => Promise<R>): Promise<R> {
  const fail = (err: unknown): never => {
    if (err instanceof KerberosError) throw new ConnectionError(broker, `SASL GSSAPI: ${err.message}`, true);
    throw err;
  };
  let context: GssContext | undefined;
  let credential: KerberosCredential | undefined;
  try {
    // acquired for each connection, as Cyrus SASL does: MIT Kerberos renews the tickets from the keytab
    // (at half their lifetime) when a credential is acquired, so a handle kept for the process would
    // keep its first tickets until they expire
    credential = KerberosCredential.acquire(settings);
    context = new GssContext(credential, settings.serviceName, host);
    let response = await step(context.step(null));
    while (!context.established) response = await step(context.step(response.authBytes));
    // the context is established; the broker's last message is its wrapped security-layer offer
    const offer = context.unwrap(response.authBytes);
    if (offer.length !== 4 || (offer[0]! & NO_SECURITY_LAYER) === 0) {
      throw new ConnectionError(broker, `SASL GSSAPI: the broker offers no usable security layer (offer 0x${Buffer.from(offer).toString("hex")})`, true);
    }
    return await step(context.wrap(Uint8Array.of(NO_SECURITY_LAYER, 0, 0, 0)));
  } catch (err) {
    return fail(err);
  } finally {
    context?.release();
    credential?.release();
  }
}
