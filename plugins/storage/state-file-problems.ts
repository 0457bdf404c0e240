/**
 * What keeps klink from writing its SQLite state file, said with the path and what to do: a
 * read-only or missing directory, no permission, a full disk. `klink plan` asks before `run`
 * would fail (writeProblem); `run` turns the error it got into the same words (stateFileError).
 */
import { SQLiteError } from "bun:sqlite";
import { accessSync, constants, existsSync, statfsSync } from "node:fs";
import { dirname } from "node:path";
import { RuntimeError, UserError } from "../../src/errors.ts";

/** Less free space than this in the state's directory: run would soon fail to write its state. */
export const MIN_FREE_BYTES = 1024 * 1024;

const fix = "make it writable, or set storage.options.path to a writable place";

/** Why run could not write the state file at `location`, or null when nothing is known against it. */
export function writeProblem(location: string): string | null {
  const dir = dirname(location);
  for (const path of existsSync(location) ? [dir, location] : [dir]) {
    try {
      accessSync(path, constants.W_OK);
    } catch (err) {
      return `cannot write the state file ${location}: ${reason((err as NodeJS.ErrnoException).code, path)}`;
    }
  }
  try {
    const fs = statfsSync(dir);
    const free = fs.bavail * fs.bsize;
    if (free < MIN_FREE_BYTES) return `the state file ${location} is on a full disk (${free} bytes free in ${dir}): free some space first`;
  } catch {
    // statfs is unavailable: nothing known against it
  }
  return null;
}

/** The error of a failed open or write of the state file, as one line that names it; other errors unchanged. */
export function stateFileError(err: unknown, location: string): unknown {
  const code = err instanceof SQLiteError ? err.code : (err as NodeJS.ErrnoException)?.code;
  if (code === "SQLITE_FULL" || code === "ENOSPC") {
    return new RuntimeError(`cannot write the state file ${location}: the disk is full; free some space and run klink again (what it wrote before is kept)`);
  }
  if (code?.startsWith("SQLITE_CANTOPEN") || code?.startsWith("SQLITE_READONLY") || code === "EROFS" || code === "EACCES" || code === "EPERM" || code === "ENOENT") {
    return new UserError(writeProblem(location) ?? `cannot write the state file ${location}: ${reason(code, location)}`);
  }
  return err;
}

function reason(code: string | undefined, path: string): string {
  if (code === "EROFS") return `${path} is on a read-only file system: ${fix}`;
  if (code === "ENOENT") return `the directory ${path} does not exist: create it, or set storage.options.path`;
  if (code === "EACCES" || code === "EPERM") return `no permission to write ${path}: ${fix}`;
  return `${path} is not writable (${code}): ${fix}`;
}
