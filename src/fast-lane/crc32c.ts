/**
 * CRC-32C (Castagnoli), the checksum of Kafka's record batches (magic 2), and the one trick the
 * fast lane needs from it: a batch whose producer fields klink rewrites gets its new checksum
 * from the old one in O(log n), without reading its bytes (docs/fast-lane.md, "Checksums").
 *
 * A CRC without its initial and final inversion is linear over GF(2): crc(a) ^ crc(b) equals the
 * plain CRC of a ^ b when a and b have the same length. So changing bytes [i, j) of an n-byte
 * region changes its CRC by the plain CRC of (old ^ new)[i, j), carried through n - j zero bytes,
 * which is a multiplication by x^(8(n-j)) modulo the polynomial.
 */

/** The Castagnoli polynomial, bit-reversed (the low bit is the highest power). */
const POLY = 0x82f63b78;

/** TABLES[k][b]: the CRC step for byte b followed by k zero bytes (slice-by-8). */
const TABLES: Uint32Array[] = (() => {
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[0]![b] = c >>> 0;
  }
  for (let b = 0; b < 256; b++) {
    for (let k = 1; k < 8; k++) t[k]![b] = (t[0]![t[k - 1]![b]! & 0xff]! ^ (t[k - 1]![b]! >>> 8)) >>> 0;
  }
  return t;
})();

/** The plain (uninverted) CRC state after feeding bytes [start, end) of `buf` to `state`. */
export function crc32cUpdate(state: number, buf: Uint8Array, start = 0, end = buf.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let c = state >>> 0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const lo = c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    c = t7[lo & 0xff]! ^ t6[(lo >>> 8) & 0xff]! ^ t5[(lo >>> 16) & 0xff]! ^ t4[lo >>> 24]! ^
      t3[buf[i + 4]!]! ^ t2[buf[i + 5]!]! ^ t1[buf[i + 6]!]! ^ t0[buf[i + 7]!]!;
  }
  for (; i < end; i++) c = t0[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

/** CRC-32C of bytes [start, end) of `buf`, as Kafka stores it (an unsigned 32-bit number). */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  return (crc32cUpdate(0xffffffff, buf, start, end) ^ 0xffffffff) >>> 0;
}

/** a * b modulo the polynomial, both bit-reversed (bit 31 is x^0). */
function multiplyModPoly(a: number, b: number): number {
  let product = 0;
  for (let m = 0x80000000; m !== 0; m >>>= 1) {
    if (a & m) product ^= b;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return product >>> 0;
}

/** X_POW_2K[k] = x^(2^k) modulo the polynomial. */
const X_POW_2K: number[] = (() => {
  const powers = [0x40000000]; // x^1
  for (let k = 1; k < 64; k++) powers.push(multiplyModPoly(powers[k - 1]!, powers[k - 1]!));
  return powers;
})();

/** The plain CRC state `state` carried through `n` zero bytes. */
export function crc32cZeros(state: number, n: number): number {
  let power = 0x80000000; // x^0
  for (let k = 3; n > 0; k++, n = Math.floor(n / 2)) {
    if (n % 2) power = multiplyModPoly(X_POW_2K[k]!, power);
  }
  return multiplyModPoly(power, state >>> 0);
}

/**
 * The CRC-32C of a region after bytes [from, to) changed from `before` to `after` (both of
 * length to - from), given its CRC `crc` before the change; `end` is where the region ends.
 */
export function crc32cAfterChange(crc: number, before: Uint8Array, after: Uint8Array, to: number, end: number): number {
  const diff = new Uint8Array(before.length);
  for (let i = 0; i < diff.length; i++) diff[i] = before[i]! ^ after[i]!;
  return (crc ^ crc32cZeros(crc32cUpdate(0, diff), end - to)) >>> 0;
}
