/**
 * One connection to one broker, over TCP or TLS: request framing (int32 size), correlation ids,
 * request headers v1/v2 and response headers v0/v1, any number of requests in flight (the broker
 * answers them in order), a timeout per request. `open` connects, asks ApiVersions and
 * authenticates (SASL) before it returns, so every later request uses a version both sides speak.
 *
 * Any failure of the connection (closed by the broker, a request timed out, a response that
 * cannot be read) fails every request in flight with a ConnectionError and closes it for good:
 * the owner opens a new one (see client.ts).
 */
import { isIP, Socket, connect as tcpConnect } from "node:net";
import { checkServerIdentity, connect as tlsConnect, type TLSSocket } from "node:tls";
import { KLINK_VERSION } from "../version.ts";
import { ConnectionError, Err } from "./errors.ts";
import { ApiVersions, type Api } from "./messages.ts";
import { authenticate } from "./sasl.ts";
import { decode, encode } from "./schema.ts";
import { takeFrame } from "./frame-pool.ts";
import type { BrokerAddress, ConnectSettings } from "./settings.ts";
import { Reader, Writer } from "./wire.ts";

interface Pending {
  api: Api<unknown, unknown>;
  version: number;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: Timer;
}

/** Certificate problems: retrying cannot help. */
const TLS_VERIFY_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|HOSTNAME|DEPTH_ZERO/;

export class Connection {
  readonly broker: string;
  private readonly versions = new Map<number, { min: number; max: number }>();
  private readonly pending = new Map<number, Pending>();
  private nextCorrelationId = 1;
  /** The response frame being received: its size field, then its bytes (see onData). */
  private readonly sizeBytes = Buffer.alloc(4);
  private sizeFilled = 0;
  private frame: Buffer | null = null;
  private frameFilled = 0;
  private closedWith: ConnectionError | null = null;
  private closeWhenDrained = false;
  /** Set-up (ApiVersions, SASL) is done. */
  private ready = false;
  /** KIP-368: when the broker ends the authenticated session (null: never). */
  private sessionLifetime: { start: number; ms: number } | null = null;

  private constructor(
    readonly address: BrokerAddress,
    private readonly settings: ConnectSettings,
    private readonly socket: Socket | TLSSocket,
  ) {
    this.broker = `${address.host}:${address.port}`;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    // with TLS 1.3 a broker refuses a client certificate after the handshake: errors come here too
    socket.on("error", (err) => this.fail(new ConnectionError(this.broker, describeSocketError(err, settings), isTlsFailure(err, settings))));
    socket.on("close", () => {
      // a plaintext client on a TLS listener sees exactly this: the broker drops the first request
      const hint = !this.ready && !settings.tls ? " during set-up (is this a TLS listener? then security.protocol must be ssl or sasl_ssl)" : "";
      this.fail(new ConnectionError(this.broker, `the broker closed the connection${hint}`));
    });
  }

  /** Connects (TCP, TLS), then negotiates API versions and authenticates; each step within settings.connectTimeoutMs. */
  static async open(address: BrokerAddress, settings: ConnectSettings): Promise<Connection> {
    const broker = `${address.host}:${address.port}`;
    const socket = await connectSocket(address, settings);
    const conn = new Connection(address, settings, socket);
    const timer = setTimeout(() => conn.fail(new ConnectionError(broker, `connection set-up (ApiVersions${settings.sasl ? ", SASL" : ""}) took longer than ${settings.connectTimeoutMs} ms`)), settings.connectTimeoutMs);
    try {
      await conn.negotiateVersions();
      if (settings.sasl) {
        const lifetimeMs = await authenticate(conn, settings.sasl);
        if (lifetimeMs > 0) conn.sessionLifetime = { start: Date.now(), ms: lifetimeMs };
      }
      conn.ready = true;
      return conn;
    } catch (err) {
      conn.close();
      throw err instanceof ConnectionError ? err : new ConnectionError(broker, String((err as Error).message ?? err));
    } finally {
      clearTimeout(timer);
    }
  }

  get isClosed(): boolean {
    return this.closedWith !== null;
  }

  /** True once 80% of the authenticated session's lifetime has passed: time for a new connection. */
  get sessionEnding(): boolean {
    return this.sessionLifetime !== null && Date.now() - this.sessionLifetime.start > this.sessionLifetime.ms * 0.8;
  }

  /** The broker's API versions (its ApiVersions answer), by API key. */
  brokerVersions(): ReadonlyMap<number, { min: number; max: number }> {
    return this.versions;
  }

  /** The version of `api` this connection uses: the highest both klink and the broker support. */
  versionOf(api: Api<unknown, unknown>): number {
    const broker = this.versions.get(api.key);
    if (!broker) throw new ConnectionError(this.broker, `the broker does not support ${api.name}`, true);
    const version = Math.min(api.maxVersion, broker.max);
    if (version < Math.max(api.minVersion, broker.min)) {
      throw new ConnectionError(this.broker, `no common version of ${api.name}: the broker supports v${broker.min}-v${broker.max}, klink v${api.minVersion}-v${api.maxVersion}`, true);
    }
    return version;
  }

  request<Req, Res>(api: Api<Req, Res>, body: Req, timeoutMs = this.settings.requestTimeoutMs): Promise<Res> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    let version: number;
    try {
      version = this.versionOf(api as Api<unknown, unknown>);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.send(api, version, body, timeoutMs);
  }

  /** Closes now; requests in flight fail. */
  close(): void {
    this.fail(new ConnectionError(this.broker, "connection closed by klink"));
  }

  /** Closes once the requests in flight are answered (a connection being replaced). */
  closeWhenIdle(): void {
    if (this.pending.size === 0) this.close();
    else this.closeWhenDrained = true;
  }

  private send<Req, Res>(api: Api<Req, Res>, version: number, body: Req, timeoutMs: number): Promise<Res> {
    const flexible = version >= api.flexibleFrom;
    const correlationId = this.nextCorrelationId++;
    const w = new Writer().int32(0); // size, set below
    w.int16(api.key).int16(version).int32(correlationId).string(this.settings.clientId);
    if (flexible) w.emptyTaggedFields(); // request header v2
    encode(api.request, version, flexible, body as Record<string, unknown>, w);
    // the pieces go to the socket as they are: a Produce request's record batches are not copied
    // into one frame (the socket holds them until written; their owner reuses them only once the
    // request is answered: batch-copier.ts)
    const pieces = w.pieces();
    Buffer.from(pieces[0]!.buffer, pieces[0]!.byteOffset, 4).writeInt32BE(w.length - 4, 0);
    return new Promise<Res>((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(new ConnectionError(this.broker, `${api.name} v${version}: no response within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.pending.set(correlationId, { api: api as Api<unknown, unknown>, version, resolve: resolve as (v: unknown) => void, reject, timer });
      for (const piece of pieces) this.socket.write(piece); // not corked: Bun then joins them into one copy
    });
  }

  private async negotiateVersions(): Promise<void> {
    const body = { clientSoftwareName: "klink", clientSoftwareVersion: KLINK_VERSION };
    let res = await this.send(ApiVersions, ApiVersions.maxVersion, body, this.settings.requestTimeoutMs);
    if (res.errorCode === Err.UNSUPPORTED_VERSION) {
      // the broker answered in v0 and listed the ApiVersions versions it does speak
      const own = res.apiKeys.find((k) => k.apiKey === ApiVersions.key);
      res = await this.send(ApiVersions, Math.min(own?.maxVersion ?? 0, ApiVersions.maxVersion), body, this.settings.requestTimeoutMs);
    }
    if (res.errorCode) throw new ConnectionError(this.broker, `ApiVersions failed with error code ${res.errorCode}`);
    for (const k of res.apiKeys) this.versions.set(k.apiKey, { min: k.minVersion, max: k.maxVersion });
  }

  /**
   * Assembles response frames: once a frame's size is known its buffer is allocated whole and each
   * received byte is copied into it once (joining chunks as they came copied a large response, a
   * fast-lane fetch of megabytes, over and over). The frame is memory of its own: the fast lane
   * rewrites record batches inside it.
   */
  private onData(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.closedWith) {
      if (this.frame === null) {
        const take = Math.min(4 - this.sizeFilled, chunk.length - at);
        chunk.copy(this.sizeBytes, this.sizeFilled, at, at + take);
        this.sizeFilled += take;
        at += take;
        if (this.sizeFilled < 4) return;
        this.sizeFilled = 0;
        const size = this.sizeBytes.readInt32BE(0);
        if (size < 4 || size > 256 * 1024 * 1024) {
          const hint = this.settings.tls ? "" : ": is this a TLS listener? then security.protocol must be ssl or sasl_ssl";
          this.fail(new ConnectionError(this.broker, `not a Kafka response (frame size ${size})${hint}`, true));
          return;
        }
        this.frame = takeFrame(size);
        this.frameFilled = 0;
      }
      const take = Math.min(this.frame.length - this.frameFilled, chunk.length - at);
      chunk.copy(this.frame, this.frameFilled, at, at + take);
      this.frameFilled += take;
      at += take;
      if (this.frameFilled === this.frame.length) {
        const frame = this.frame;
        this.frame = null;
        this.onFrame(frame);
      }
    }
  }

  private onFrame(frame: Buffer): void {
    const r = new Reader(frame);
    const correlationId = r.int32();
    const p = this.pending.get(correlationId);
    if (!p) {
      this.fail(new ConnectionError(this.broker, `response with unknown correlation id ${correlationId}`));
      return;
    }
    this.pending.delete(correlationId);
    clearTimeout(p.timer);
    try {
      let version = p.version;
      // ApiVersions answers with response header v0 whatever its version (so a client can read an
      // UNSUPPORTED_VERSION answer), and in v0 when it does not support the version asked for.
      if (p.api.key === ApiVersions.key) {
        if (frame.length >= 6 && frame.readInt16BE(4) === Err.UNSUPPORTED_VERSION) version = 0;
      } else if (version >= p.api.flexibleFrom) {
        r.skipTaggedFields(); // response header v1
      }
      p.resolve(decode(p.api.response, version, version >= p.api.flexibleFrom, r));
    } catch (err) {
      const e = new ConnectionError(this.broker, `cannot read the ${p.api.name} v${p.version} response: ${(err as Error).message}`);
      p.reject(e);
      this.fail(e);
      return;
    }
    if (this.closeWhenDrained && this.pending.size === 0) this.close();
  }

  private fail(err: ConnectionError): void {
    if (this.closedWith) return;
    this.closedWith = err;
    this.socket.destroy();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}

function connectSocket(address: BrokerAddress, settings: ConnectSettings): Promise<Socket | TLSSocket> {
  const broker = `${address.host}:${address.port}`;
  return new Promise((resolve, reject) => {
    const tls = settings.tls;
    const socket: Socket | TLSSocket = tls
      ? tlsConnect({
          host: address.host,
          port: address.port,
          // SNI takes host names only
          ...(isIP(address.host) ? {} : { servername: address.host }),
          ...(tls.ca ? { ca: tls.ca } : {}),
          ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
          ...(tls.pfx ? { pfx: tls.pfx } : {}),
          ...(tls.passphrase !== undefined ? { passphrase: tls.passphrase } : {}),
          rejectUnauthorized: tls.verifyCertificate,
          // ssl.endpoint.identification.algorithm: https checks the broker's name, none does not
          checkServerIdentity: tls.verifyHostname ? checkServerIdentity : () => undefined,
        })
      : tcpConnect({ host: address.host, port: address.port });
    const timer = setTimeout(() => done(new ConnectionError(broker, `could not connect within ${settings.connectTimeoutMs} ms`)), settings.connectTimeoutMs);
    const done = (err?: Error) => {
      clearTimeout(timer);
      socket.removeAllListeners();
      if (err) {
        socket.destroy();
        reject(err);
      } else {
        resolve(socket);
      }
    };
    socket.once(tls ? "secureConnect" : "connect", () => done());
    socket.once("error", (err) => done(new ConnectionError(broker, describeSocketError(err, settings), isTlsFailure(err, settings))));
    socket.once("close", () => done(new ConnectionError(broker, "the broker closed the connection while connecting")));
  });
}

/** Certificate refused, or TLS spoken to a plaintext listener: retrying cannot help. */
function isTlsFailure(err: Error, settings: ConnectSettings): boolean {
  const code = (err as NodeJS.ErrnoException).code ?? "";
  return settings.tls !== null && (TLS_VERIFY_CODES.test(code) || /wrong version number|packet length too long|alert|before secure TLS connection/i.test(err.message));
}

function describeSocketError(err: Error, settings: ConnectSettings): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code && /ALERT/.test(code)) {
    const noCert = settings.tls && !settings.tls.cert && !settings.tls.pfx ? ": does this listener require a client certificate (ssl.certificate.location and ssl.key.location, or ssl.keystore.location)?" : "";
    return `TLS: the broker refused the handshake: ${err.message} (${code})${noCert}`;
  }
  if (code && TLS_VERIFY_CODES.test(code)) {
    const what = /ALTNAME|HOSTNAME/.test(code) ? "its certificate does not name this host (ssl.endpoint.identification.algorithm=https)" : "certificate verify failed";
    return `TLS: ${what}: ${err.message} (${code})`;
  }
  if (settings.tls && (code === "ECONNRESET" || /wrong version number|packet length too long/i.test(err.message))) {
    return `TLS handshake failed: ${err.message}${code ? ` (${code})` : ""}: is this a TLS listener? if not, security.protocol must be plaintext or sasl_plaintext`;
  }
  return `${err.message}${code && !err.message.includes(code) ? ` (${code})` : ""}`;
}
