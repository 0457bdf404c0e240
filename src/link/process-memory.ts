/**
 * This process's resident memory, and a way to give freed memory back to the system.
 *
 * librdkafka allocates with the C library's malloc, from one heap per thread. Once records are
 * freed, glibc keeps most of those pages (small blocks in the middle of its heaps are never
 * returned on their own), so RSS stays at its peak: after a 1.5 GB prefetch queue was freed, RSS
 * stayed at 1.5 GB until `malloc_trim(0)` brought it to 48 MiB (bench/results/memory-*.md).
 */
import { dlopen, FFIType } from "bun:ffi";

/** Resident set size in bytes (reads /proc/self/statm on Linux: cheap). */
export function residentBytes(): number {
  return process.memoryUsage.rss();
}

let trimmer: (() => void) | null | undefined;

/** Returns freed heap pages to the system (glibc's malloc_trim); a no-op where there is none (musl, macOS). */
export function returnFreedMemory(): void {
  if (trimmer === undefined) {
    try {
      const libc = dlopen("libc.so.6", { malloc_trim: { args: [FFIType.u64], returns: FFIType.i32 } });
      trimmer = () => void libc.symbols.malloc_trim(0);
    } catch {
      trimmer = null;
    }
  }
  trimmer?.();
}
