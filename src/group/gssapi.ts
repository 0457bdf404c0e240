/**
 * Kerberos for klink's own clients: the system's MIT GSS-API library (libgssapi_krb5.so.2, Debian
 * package libgssapi-krb5-2) through bun:ffi. `KerberosCredential` holds a client's tickets;
 * `GssContext` is one security context with a broker (RFC 2743 gss_init_sec_context, gss_wrap,
 * gss_unwrap), which sasl-gssapi.ts drives as SASL GSSAPI (RFC 4752).
 *
 * Credentials come through gss_acquire_cred_from with a credential store (MIT's gss_krb5 cred
 * store), not through KRB5CCNAME / KRB5_CLIENT_KTNAME: the store names the keytab and the ticket
 * cache per credential, so no environment variable has to be changed while other threads read it,
 * and the operator's own ticket cache is never touched. With a keytab, MIT fetches the first
 * ticket from it and a new one once half of the ticket's lifetime has passed, when a credential is
 * next acquired (client keytab initiation, krb5 1.11+; sasl-gssapi.ts acquires one per connection):
 * nothing runs kinit. Without a keytab the default ticket cache (KRB5CCNAME, kinit) is used.
 */
import { dlopen, FFIType, ptr, read, toArrayBuffer } from "bun:ffi";
import { createHash } from "node:crypto";
import { accessSync, constants } from "node:fs";

/**
 * Where this process keeps the tickets it gets from a keytab: in memory, one cache per principal
 * and keytab (a cache holding tickets is used as is, whatever keytab is named later), shared with
 * librdkafka (plugins/auth/gssapi.ts).
 */
export function ticketCache(identity: KerberosIdentity): string {
  return `MEMORY:klink-${createHash("sha256").update(`${identity.principal}\0${identity.keytab}`).digest("hex").slice(0, 16)}`;
}

const LIBRARY = "libgssapi_krb5.so.2";
const { u32, i32, ptr: P } = FFIType;
const symbols = {
  gss_import_name: { args: [P, P, P, P], returns: u32 },
  gss_release_name: { args: [P, P], returns: u32 },
  gss_acquire_cred_from: { args: [P, P, u32, P, i32, P, P, P, P], returns: u32 },
  gss_inquire_cred: { args: [P, P, P, P, P, P], returns: u32 },
  gss_release_cred: { args: [P, P], returns: u32 },
  gss_init_sec_context: { args: [P, P, P, P, P, u32, u32, P, P, P, P, P, P], returns: u32 },
  gss_delete_sec_context: { args: [P, P, P], returns: u32 },
  gss_wrap: { args: [P, P, i32, u32, P, P, P], returns: u32 },
  gss_unwrap: { args: [P, P, P, P, P, P], returns: u32 },
  gss_release_buffer: { args: [P, P], returns: u32 },
  gss_display_status: { args: [P, u32, i32, P, P, P], returns: u32 },
} as const;

type Gss = { [K in keyof typeof symbols]: (...args: unknown[]) => number };
let lib: Gss | undefined;

function gss(): Gss {
  if (!lib) {
    try {
      lib = dlopen(LIBRARY, symbols).symbols as unknown as Gss;
    } catch (err) {
      throw new KerberosError(`cannot load ${LIBRARY} (${(err as Error).message.split("\n")[0]}): install the Debian package libgssapi-krb5-2`);
    }
  }
  return lib;
}

export class KerberosError extends Error {
  override name = "KerberosError";
}

// RFC 2744 constants
const GSS_S_CONTINUE_NEEDED = 1; // a supplementary bit: the call succeeded, another round is due
const GSS_C_GSS_CODE = 1;
const GSS_C_MECH_CODE = 2;
const GSS_C_INITIATE = 1;
const GSS_C_MUTUAL_FLAG = 2;
const GSS_C_SEQUENCE_FLAG = 8;
const GSS_C_INTEG_FLAG = 32;
const isError = (major: number) => (major & 0xffff0000) !== 0;

/** A gss_OID_desc (u32 length, pointer to the DER bytes), kept alive with its bytes. */
function oid(der: number[]): { desc: Buffer; bytes: Buffer } {
  const bytes = Buffer.from(der);
  const desc = Buffer.alloc(16);
  desc.writeUInt32LE(bytes.length, 0);
  desc.writeBigUInt64LE(BigInt(ptr(bytes)), 8);
  return { desc, bytes };
}
// 1.2.840.113554.1.2.1.4 (GSS_C_NT_HOSTBASED_SERVICE), 1.2.840.113554.1.2.2.1 (GSS_KRB5_NT_PRINCIPAL_NAME), 1.2.840.113554.1.2.2 (Kerberos 5)
const NT_HOSTBASED_SERVICE = oid([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x01, 0x04]);
const NT_KRB5_PRINCIPAL = oid([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01]);
const KRB5_MECH = oid([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02]);

/** A gss_buffer_desc (size_t length, void* value) over `data`; keep `data` reachable during the call. */
function bufferDesc(data: Uint8Array): Buffer {
  const desc = Buffer.alloc(16);
  desc.writeBigUInt64LE(BigInt(data.length), 0);
  if (data.length > 0) desc.writeBigUInt64LE(BigInt(ptr(data)), 8);
  return desc;
}

/** Copies a buffer the library filled in, then frees it. */
function takeBuffer(desc: Buffer): Uint8Array {
  const length = Number(desc.readBigUInt64LE(0));
  const value = Number(desc.readBigUInt64LE(8));
  const out = length > 0 && value ? new Uint8Array(toArrayBuffer(value as never, 0, length).slice(0)) : new Uint8Array(0);
  gss().gss_release_buffer(Buffer.alloc(4), desc);
  return out;
}

/** The library's own words for a failed call: the mechanism's (e.g. "Preauthentication failed"), else the GSS-API's. */
function statusText(major: number, minor: number): string {
  const texts = (code: number, type: number) => {
    const out: string[] = [];
    const context = Buffer.alloc(4);
    do {
      const desc = Buffer.alloc(16);
      if (isError(gss().gss_display_status(Buffer.alloc(4), code, type, type === GSS_C_MECH_CODE ? KRB5_MECH.desc : null, context, desc))) break;
      const text = Buffer.from(takeBuffer(desc)).toString("utf8");
      if (text) out.push(text);
    } while (context.readUInt32LE(0) !== 0);
    return out;
  };
  const mech = minor ? texts(minor, GSS_C_MECH_CODE) : [];
  return (mech.length ? mech : texts(major, GSS_C_GSS_CODE)).join("; ") || `GSS-API major status 0x${major.toString(16)}`;
}

function check(call: string, major: number, minor: Buffer, hint = ""): void {
  if (!isError(major)) return;
  const why = statusText(major, minor.readUInt32LE(0));
  // what MIT says when a keytab's keys are not the principal's current ones
  const stale = /Decrypt integrity check failed|Password incorrect|Preauthentication failed/.test(why);
  throw new KerberosError(`${call}: ${why}${stale ? ": the keytab does not hold the principal's current keys (export it again, e.g. kadmin ktadd)" : hint}`);
}

function importName(name: string, type: Buffer): number {
  const text = Buffer.from(name, "utf8");
  const minor = Buffer.alloc(4);
  const out = Buffer.alloc(8);
  check(`Kerberos name '${name}'`, gss().gss_import_name(minor, bufferDesc(text), type, out), minor);
  return Number(out.readBigUInt64LE(0));
}

function releaseName(name: number): void {
  const holder = Buffer.alloc(8);
  holder.writeBigUInt64LE(BigInt(name));
  gss().gss_release_name(Buffer.alloc(4), holder);
}

export interface KerberosIdentity {
  /** The client principal, e.g. klink@EXAMPLE.COM. */
  principal?: string;
  /** A keytab with the principal's keys; without it, the default ticket cache (kinit) is used. */
  keytab?: string;
}

/** A client's Kerberos credential (a gss_cred_id_t); GSS_C_NO_CREDENTIAL (the default ticket cache) when no keytab is given. */
export class KerberosCredential {
  private constructor(readonly handle: number) {}

  /**
   * Acquires the credential and gets its ticket-granting ticket now, so a wrong keytab or principal
   * shows at once. Without a keytab it checks the default ticket cache holds a valid ticket, then
   * returns GSS_C_NO_CREDENTIAL: each connection reads the cache anew, as kinit renews it.
   */
  static acquire(identity: KerberosIdentity): KerberosCredential {
    const { keytab, principal } = identity;
    if (keytab && !principal) throw new KerberosError(`a keytab (${keytab}) needs the principal to log in as`);
    if (keytab) {
      try {
        accessSync(keytab, constants.R_OK);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new KerberosError(`cannot read the keytab ${keytab}: ${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code}`);
      }
    }
    const name = principal ? importName(principal, NT_KRB5_PRINCIPAL.desc) : 0;
    const strings = keytab ? ["client_keytab", keytab, "ccache", ticketCache(identity)].map((v) => Buffer.from(`${v}\0`)) : [];
    const elements = Buffer.alloc(Math.max(8, strings.length * 8));
    strings.forEach((k, i) => elements.writeBigUInt64LE(BigInt(ptr(k)), i * 8));
    const store = Buffer.alloc(16);
    store.writeUInt32LE(strings.length / 2, 0);
    store.writeBigUInt64LE(BigInt(ptr(elements)), 8);
    const minor = Buffer.alloc(4);
    const out = Buffer.alloc(8);
    const who = principal ?? "the ticket cache's principal";
    const where = keytab ? `Kerberos login as ${who} with keytab ${keytab}` : `Kerberos login as ${who} from the ticket cache (KRB5CCNAME, or the default one)`;
    const hint = keytab ? "" : ": run kinit, or give a keytab";
    try {
      check(where, gss().gss_acquire_cred_from(minor, name || null, 0, null, GSS_C_INITIATE, store, out, null, null), minor, hint);
      const cred = new KerberosCredential(Number(out.readBigUInt64LE(0)));
      // MIT asks the KDC for the ticket lazily: inquiring makes it do so now
      const lifetime = Buffer.alloc(4);
      const major = gss().gss_inquire_cred(minor, cred.handle, null, lifetime, null, null);
      if (isError(major) || !keytab) cred.release();
      check(where, major, minor, hint);
      if (lifetime.readUInt32LE(0) === 0) throw new KerberosError(`${where}: the ticket has expired${hint}`);
      return keytab ? cred : new KerberosCredential(0);
    } finally {
      void strings; // the strings must outlive the call
      if (name) releaseName(name);
    }
  }

  release(): void {
    if (!this.handle) return;
    const holder = Buffer.alloc(8);
    holder.writeBigUInt64LE(BigInt(this.handle));
    gss().gss_release_cred(Buffer.alloc(4), holder);
  }
}

/** One Kerberos security context with `service@host` (e.g. kafka@broker1.example.com). */
export class GssContext {
  private readonly context = Buffer.alloc(8); // gss_ctx_id_t, GSS_C_NO_CONTEXT at first
  private readonly target: number;
  private done = false;

  constructor(
    private readonly credential: KerberosCredential,
    readonly service: string,
    readonly host: string,
  ) {
    this.target = importName(`${service}@${host}`, NT_HOSTBASED_SERVICE.desc);
  }

  get established(): boolean {
    return this.done;
  }

  /** The next token for the broker, from its last one (none at first). */
  step(input: Uint8Array | null): Uint8Array {
    const minor = Buffer.alloc(4);
    const output = Buffer.alloc(16);
    const data = input ?? new Uint8Array(0);
    const major = gss().gss_init_sec_context(
      minor, this.credential.handle || null, this.context, this.target, KRB5_MECH.desc,
      GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_INTEG_FLAG, 0, null,
      input ? bufferDesc(data) : null, null, output, null, null,
    );
    const token = takeBuffer(output);
    check(`Kerberos service ticket for ${this.service}/${this.host}`, major, minor);
    if ((major & GSS_S_CONTINUE_NEEDED) === 0) this.done = true;
    return token;
  }

  /** Integrity-protects a message (no confidentiality: RFC 4752 only asks for integrity here). */
  wrap(message: Uint8Array): Uint8Array {
    const minor = Buffer.alloc(4);
    const output = Buffer.alloc(16);
    const major = gss().gss_wrap(minor, read.ptr(ptr(this.context), 0), 0, 0, bufferDesc(message), null, output);
    const token = takeBuffer(output);
    check("gss_wrap", major, minor);
    return token;
  }

  unwrap(token: Uint8Array): Uint8Array {
    const minor = Buffer.alloc(4);
    const output = Buffer.alloc(16);
    const major = gss().gss_unwrap(minor, read.ptr(ptr(this.context), 0), bufferDesc(token), output, null, null);
    const message = takeBuffer(output);
    check("gss_unwrap", major, minor);
    return message;
  }

  release(): void {
    gss().gss_delete_sec_context(Buffer.alloc(4), this.context, null);
    releaseName(this.target);
  }
}
