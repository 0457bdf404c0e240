/**
 * Kafka's wire primitives: big-endian integers, varints, strings and bytes in their classic
 * (int16 / int32 length) and compact (unsigned varint length + 1, flexible versions) forms,
 * and tagged fields.
 *
 * A Writer grows its own buffer; `finish()` returns a copy-free view of what was written, valid
 * until the Writer is written to again. Large byte arrays (a Produce request's record batches) are
 * kept by reference: `finish()` copies them once into the buffer it returns; `pieces()` does not
 * copy them at all (a connection writes the pieces to its socket one by one). A Reader reads from
 * a Buffer it does not copy: values returned by `bytes()` are views into it, so the caller must
 * not reuse that Buffer while they live.
 */

/** Byte arrays at least this long are kept by reference until `finish()`. */
const BY_REFERENCE = 16 * 1024;

export class Writer {
  private buf = Buffer.alloc(256);
  private pos = 0;
  /** What was written before `buf`: its earlier buffers and the large arrays kept by reference. */
  private earlier: Uint8Array[] = [];
  private earlierBytes = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int8(v: number): this {
    this.room(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
    return this;
  }

  int16(v: number): this {
    this.room(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.room(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  int64(v: number | bigint): this {
    this.room(8);
    this.buf.writeBigInt64BE(BigInt(v), this.pos);
    this.pos += 8;
    return this;
  }

  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  /** Unsigned varint (LEB128), as Kafka's compact lengths and tag numbers use. */
  uvarint(v: number): this {
    if (v < 0 || !Number.isInteger(v)) throw new RangeError(`uvarint out of range: ${v}`);
    while (v >= 0x80) {
      this.int8Raw((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    return this.int8Raw(v);
  }

  /** Signed varint (zig-zag), as record headers use. */
  varint(v: number): this {
    return this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  raw(b: Uint8Array): this {
    if (b.length >= BY_REFERENCE) {
      this.earlier.push(this.buf.subarray(0, this.pos), b);
      this.earlierBytes += this.pos + b.length;
      this.buf = Buffer.allocUnsafe(256);
      this.pos = 0;
      return this;
    }
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** int16 length + UTF-8; null as length -1. */
  string(v: string | null): this {
    if (v === null) return this.int16(-1);
    const b = Buffer.from(v, "utf8");
    return this.int16(b.length).raw(b);
  }

  /** uvarint (length + 1) + UTF-8; null as 0. */
  compactString(v: string | null): this {
    if (v === null) return this.uvarint(0);
    const b = Buffer.from(v, "utf8");
    return this.uvarint(b.length + 1).raw(b);
  }

  /** int32 length + bytes; null as -1. */
  bytes(v: Uint8Array | null): this {
    if (v === null) return this.int32(-1);
    return this.int32(v.length).raw(v);
  }

  /** uvarint (length + 1) + bytes; null as 0. */
  compactBytes(v: Uint8Array | null): this {
    if (v === null) return this.uvarint(0);
    return this.uvarint(v.length + 1).raw(v);
  }

  /** The tagged-field section: klink sends none, so always an empty one. */
  emptyTaggedFields(): this {
    return this.uvarint(0);
  }

  get length(): number {
    return this.earlierBytes + this.pos;
  }

  finish(): Buffer {
    if (!this.earlier.length) return this.buf.subarray(0, this.pos);
    return Buffer.concat(this.pieces(), this.length);
  }

  /** What was written, in order, uncopied: the Writer's own buffers and the large arrays it kept by reference. */
  pieces(): Uint8Array[] {
    return [...this.earlier, this.buf.subarray(0, this.pos)];
  }

  private int8Raw(v: number): this {
    this.room(1);
    this.buf[this.pos++] = v;
    return this;
  }
}

export class Reader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new RangeError(`truncated Kafka message: need ${n} byte(s) at offset ${this.pos} of ${this.buf.length}`);
    }
  }

  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** int64 as a number: offsets and timestamps stay far below 2^53. */
  int64(): number {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return Number(v);
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  uvarint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      if (i > 4) throw new RangeError(`uvarint longer than 5 bytes at offset ${this.pos}`);
      this.need(1);
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  }

  varint(): number {
    const z = this.uvarint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  raw(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  string(): string | null {
    const n = this.int16();
    return n < 0 ? null : this.raw(n).toString("utf8");
  }

  compactString(): string | null {
    const n = this.uvarint() - 1;
    return n < 0 ? null : this.raw(n).toString("utf8");
  }

  bytes(): Buffer | null {
    const n = this.int32();
    return n < 0 ? null : this.raw(n);
  }

  compactBytes(): Buffer | null {
    const n = this.uvarint() - 1;
    return n < 0 ? null : this.raw(n);
  }

  /** Skips a tagged-field section: klink reads none of the tagged fields it may receive. */
  skipTaggedFields(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint(); // tag
      this.raw(this.uvarint());
    }
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  get offset(): number {
    return this.pos;
  }
}
