/**
 * Reads a text file klink was pointed at (migration.yaml, a `${file:}`), refusing what would hang
 * or exhaust memory: only regular files (a FIFO would block forever, /dev/zero never ends), and
 * at most `maxBytes`. Opened non-blocking, so a FIFO is refused, not waited on.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

export const MiB = 1024 * 1024;

/** Why a file could not be read, in words for the operator (without the path: callers add it). */
export class ReadProblem extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

/** `limit` names the limit in words: "the 1 MiB limit for a ${file:} value". */
export function readBounded(path: string, maxBytes: number, limit: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "it is a directory" : (err as Error).message;
    throw new ReadProblem(why, code);
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new ReadProblem("it is a directory", "EISDIR");
    if (!stat.isFile()) throw new ReadProblem("not a regular file (a device, FIFO or socket): name a file", "ENOTFILE");
    if (stat.size > maxBytes) throw new ReadProblem(`it is ${stat.size} bytes, over ${limit}`, "EFBIG");
    // read at most one byte past the limit: a file that grew since fstat is refused too
    const buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > maxBytes) throw new ReadProblem(`it grew over ${limit}`, "EFBIG");
    return buffer.toString("utf8", 0, length);
  } finally {
    closeSync(fd);
  }
}
