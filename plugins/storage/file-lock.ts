/**
 * An exclusive lock on a file with flock(2), through libc. The kernel releases it when the
 * descriptor closes, so also when the process dies, by kill -9 too: a lock file left behind by a
 * killed process blocks nothing. The file holds "pid N on host H since T" of the holder, for the
 * message of the one refused.
 */
import { dlopen, read, type Pointer } from "bun:ffi";
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";

const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = process.platform === "darwin" ? 35 : 11;

let libc: ReturnType<typeof open> | null = null;
function open() {
  const darwin = process.platform === "darwin";
  return dlopen(darwin ? "libSystem.B.dylib" : "libc.so.6", {
    flock: { args: ["i32", "i32"], returns: "i32" },
    [darwin ? "__error" : "__errno_location"]: { args: [], returns: "ptr" },
  }).symbols;
}

/** errno of the last failed call on this thread (glibc: __errno_location, macOS: __error). */
function errno(): number {
  const symbols = libc!;
  return read.i32((symbols.__errno_location ?? symbols.__error)!() as Pointer, 0);
}

export class FileLock {
  private constructor(private fd: number | null) {}

  /** Takes the lock on `path` (created if missing), or returns who holds it ("pid N on host H since T"; "" if unknown). */
  static take(path: string): FileLock | { heldBy: string } {
    libc ??= open();
    const fd = openSync(path, "a+");
    if (libc.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
      const code = errno();
      closeSync(fd);
      if (code !== EWOULDBLOCK) throw new Error(`cannot lock ${path}: flock failed with errno ${code}`);
      return { heldBy: readFileSync(path, "utf8").trim() };
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `pid ${process.pid} on host ${hostname()} since ${new Date().toISOString()}\n`);
    return new FileLock(fd);
  }

  release(): void {
    if (this.fd === null) return;
    closeSync(this.fd); // closing the descriptor releases the lock
    this.fd = null;
  }
}
