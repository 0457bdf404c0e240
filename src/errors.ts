/**
 * Errors every layer may throw. Kept here, below config/, link/, plugins/ and commands/, so
 * that the layers that throw them need not import the CLI that reports them.
 */
import { dirname } from "node:path";

/** Thrown for mistakes the user can fix (bad flag, bad file); the CLI prints the message only (exit code 1). */
export class UserError extends Error {
  override name = "UserError";
}

/** Thrown for failures the user did not cause (disk full, I/O error); the CLI prints the message only (exit code 2). */
export class RuntimeError extends Error {
  override name = "RuntimeError";
}

/**
 * A failed read or write of `path` as one line that says what to do: a UserError when the path is
 * the mistake (missing directory, a directory, no permission), a RuntimeError otherwise (disk full).
 */
export function fileError(err: unknown, action: "read" | "write", path: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const user: Record<string, string> = {
    ENOENT: action === "write" ? `its directory ${dirname(path)} does not exist` : "no such file",
    ENOTDIR: "a part of the path is not a directory",
    EISDIR: "it is a directory: name a file",
    EACCES: "permission denied",
    EPERM: "permission denied",
    EROFS: "the file system is read-only",
  };
  if (code && user[code]) return new UserError(`cannot ${action} ${path}: ${user[code]}`);
  if (code === "ENOSPC") return new RuntimeError(`cannot ${action} ${path}: no space left on the device`);
  return new RuntimeError(`cannot ${action} ${path}: ${(err as Error).message ?? String(err)}`);
}
