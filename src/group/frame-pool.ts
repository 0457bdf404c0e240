/**
 * Large frames (a fast-lane Fetch response, a Produce request of megabytes) kept for reuse. Each
 * fresh allocation of that size is new memory that the kernel maps and zeroes page by page on the
 * first write: copying 500 MB through the fast lane cost 340,000 page faults and twice the system
 * time of the raw librdkafka pipe. A frame is reused only once its holder gives it back
 * (`recycleFrame`), and only a buffer `takeFrame` handed out is taken back.
 */

/** Smaller frames come from the allocator's own pools: not worth keeping. */
const MIN_POOLED = 256 * 1024;
/** At most this much is kept idle. */
const MAX_KEPT_BYTES = 128 * 1024 * 1024;

const ours = new WeakSet<ArrayBufferLike>();
const kept: ArrayBuffer[] = [];

/** A buffer of exactly `size` bytes (a view of a kept one when one is large enough). */
export function takeFrame(size: number): Buffer {
  if (size < MIN_POOLED) return Buffer.allocUnsafe(size);
  const i = kept.findIndex((b) => b.byteLength >= size);
  if (i >= 0) return Buffer.from(kept.splice(i, 1)[0]!, 0, size);
  // rounded up to a power of two, so that the next frame of a similar size fits
  const buffer = new ArrayBuffer(2 ** Math.ceil(Math.log2(size)));
  ours.add(buffer);
  return Buffer.from(buffer, 0, size);
}

/** Gives back the frame `view` lies in: the caller holds no view of it any more. Others are ignored. */
export function recycleFrame(view: Uint8Array): void {
  const buffer = view.buffer as ArrayBuffer;
  if (!ours.has(buffer) || kept.includes(buffer)) return;
  kept.push(buffer);
  kept.sort((a, b) => a.byteLength - b.byteLength); // the smallest that fits is taken
  let total = kept.reduce((n, b) => n + b.byteLength, 0);
  while (total > MAX_KEPT_BYTES) total -= kept.shift()!.byteLength;
}
