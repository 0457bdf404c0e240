/**
 * SASL on a new connection (after ApiVersions, before anything else): SaslHandshake names the
 * mechanism, then SaslAuthenticate carries its messages. PLAIN (RFC 4616), SCRAM-SHA-256/512
 * (RFC 5802, 7677), OAUTHBEARER (RFC 7628, the token from the auth plugin) and GSSAPI (RFC 4752,
 * Kerberos: sasl-gssapi.ts).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import { ConnectionError, Err, errorName } from "./errors.ts";
import { SaslAuthenticate, SaslHandshake, type Api } from "./messages.ts";
import { gssapiExchange } from "./sasl-gssapi.ts";
import type { SaslSettings } from "./settings.ts";

/** What SASL needs of a connection (connection.ts authenticates each one while it opens it). */
export interface SaslChannel {
  readonly broker: string;
  request<Req, Res>(api: Api<Req, Res>, body: Req): Promise<Res>;
}

/** Authenticates `conn`; returns the session lifetime the broker granted (KIP-368, 0: unlimited). */
export async function authenticate(conn: SaslChannel, sasl: SaslSettings): Promise<number> {
  const handshake = await conn.request(SaslHandshake, { mechanism: sasl.mechanism });
  if (handshake.errorCode === Err.UNSUPPORTED_SASL_MECHANISM) {
    throw new ConnectionError(conn.broker, `SASL mechanism ${sasl.mechanism} is not enabled on this listener (it offers ${handshake.mechanisms.join(", ") || "none"})`, true);
  }
  if (handshake.errorCode) throw new ConnectionError(conn.broker, `SaslHandshake failed with ${errorName(handshake.errorCode)}`, true);

  const step = async (bytes: Uint8Array) => {
    const r = await conn.request(SaslAuthenticate, { authBytes: bytes });
    if (r.errorCode) {
      throw new ConnectionError(conn.broker, `SASL ${sasl.mechanism} authentication failed: ${r.errorMessage ?? errorName(r.errorCode)}`, true);
    }
    return r;
  };

  switch (sasl.mechanism) {
    case "PLAIN": {
      const r = await step(Buffer.from(`\0${sasl.username}\0${sasl.password}`, "utf8"));
      return r.sessionLifetimeMs ?? 0;
    }
    case "SCRAM-SHA-256":
    case "SCRAM-SHA-512": {
      const scram = new ScramClient(sasl.mechanism, sasl.username!, sasl.password!);
      const serverFirst = await step(Buffer.from(scram.clientFirst(), "utf8"));
      const serverFinal = await step(Buffer.from(scram.clientFinal(serverFirst.authBytes.toString("utf8")), "utf8"));
      try {
        scram.verifyServerFinal(serverFinal.authBytes.toString("utf8"));
      } catch (err) {
        throw new ConnectionError(conn.broker, (err as Error).message, true);
      }
      return serverFinal.sessionLifetimeMs ?? 0;
    }
    case "OAUTHBEARER": {
      let token: string;
      try {
        token = (await sasl.token!()).token;
      } catch (err) {
        throw new ConnectionError(conn.broker, `cannot get an OAUTHBEARER token: ${(err as Error).message}`, true);
      }
      const r = await step(Buffer.from(`n,,\x01auth=Bearer ${token}\x01\x01`, "utf8"));
      if (r.authBytes.length > 0) {
        // RFC 7628: the server sent an error status (JSON); the client acknowledges with 0x01 and the
        // broker then fails the exchange. Report the status, which says why the token was refused.
        const status = r.authBytes.toString("utf8");
        await step(Buffer.from([1])).catch(() => undefined);
        throw new ConnectionError(conn.broker, `SASL OAUTHBEARER authentication failed: the broker refused the token: ${status}`, true);
      }
      return r.sessionLifetimeMs ?? 0;
    }
    case "GSSAPI": {
      // the service principal is named after the host as the client knows it (service/host@REALM)
      const host = conn.broker.slice(0, conn.broker.lastIndexOf(":")).replace(/^\[(.*)\]$/, "$1");
      const r = await gssapiExchange(conn.broker, host, sasl.kerberos!, step);
      return r.sessionLifetimeMs ?? 0;
    }
  }
}

/** The client side of a SCRAM exchange (RFC 5802); one instance per authentication. */
export class ScramClient {
  private readonly hash: "sha256" | "sha512";
  private readonly clientFirstBare: string;
  private serverSignature: Buffer | null = null;

  constructor(
    mechanism: "SCRAM-SHA-256" | "SCRAM-SHA-512",
    username: string,
    private readonly password: string,
    private readonly nonce = randomBytes(24).toString("base64"),
  ) {
    this.hash = mechanism === "SCRAM-SHA-256" ? "sha256" : "sha512";
    // RFC 5802 saslname: ',' and '=' are escaped
    const name = username.replace(/=/g, "=3D").replace(/,/g, "=2C");
    this.clientFirstBare = `n=${name},r=${this.nonce}`;
  }

  clientFirst(): string {
    return `n,,${this.clientFirstBare}`;
  }

  clientFinal(serverFirst: string): string {
    const attrs = parseAttributes(serverFirst);
    if (attrs.e) throw new Error(`SCRAM: the broker refused: ${attrs.e}`);
    const serverNonce = attrs.r;
    const salt = attrs.s;
    const iterations = Number(attrs.i);
    if (!serverNonce?.startsWith(this.nonce) || !salt || !Number.isInteger(iterations) || iterations < 1) {
      throw new Error(`SCRAM: unexpected server-first-message '${serverFirst}'`);
    }
    const withoutProof = `c=biws,r=${serverNonce}`; // biws = base64("n,,"): no channel binding
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const salted = pbkdf2Sync(this.password, Buffer.from(salt, "base64"), iterations, this.hash === "sha256" ? 32 : 64, this.hash);
    const clientKey = this.hmac(salted, "Client Key");
    const storedKey = createHash(this.hash).update(clientKey).digest();
    const clientSignature = this.hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!;
    this.serverSignature = this.hmac(this.hmac(salted, "Server Key"), authMessage);
    return `${withoutProof},p=${proof.toString("base64")}`;
  }

  /** Checks that the broker knows the password too (mutual authentication). */
  verifyServerFinal(serverFinal: string): void {
    const attrs = parseAttributes(serverFinal);
    if (attrs.e) throw new Error(`SCRAM: the broker refused: ${attrs.e}`);
    const v = Buffer.from(attrs.v ?? "", "base64");
    if (!this.serverSignature || v.length !== this.serverSignature.length || !timingSafeEqual(v, this.serverSignature)) {
      throw new Error("SCRAM: the broker's signature does not match: it does not hold this user's credentials");
    }
  }

  private hmac(key: Buffer, data: string): Buffer {
    return createHmac(this.hash, key).update(data, "utf8").digest();
  }
}

function parseAttributes(message: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of message.split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}
