/**
 * The control token: `klink run` writes a fresh random one at every start into status.tokenFile
 * (default `<file>.klink.token` beside the YAML), readable by its owner only; the control commands
 * read it and send it as `Authorization: Bearer <token>`. Whoever can read the file may change
 * the migration, so it is protected like the state itself.
 */
import { randomBytes, createHash, timingSafeEqual } from "node:crypto";
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";

/** The token file cannot be written (the message says where and what to do). */
export class TokenFileError extends Error {
  override name = "TokenFileError";
}

/** Writes a new token to `path` (mode 0600, replaced atomically, never through an existing link) and returns it. */
export function writeToken(path: string): string {
  const token = randomBytes(32).toString("base64url");
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, `${token}\n`, { mode: 0o600, flag: "wx" });
    chmodSync(temporary, 0o600); // whatever the umask
    renameSync(temporary, path);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw new TokenFileError(`cannot write the control token to ${path} (${(err as Error).message}); make its directory writable or set status.tokenFile`);
  }
  return token;
}

/** The token in `path`, or why there is none (for the operator). */
export function readToken(path: string): { token: string } | { error: string } {
  try {
    const token = readFileSync(path, "utf8").trim();
    if (token) return { token };
    return { error: `the control token file ${path} is empty` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { error: `no control token at ${path}: \`klink run\` writes it when it starts (on the host it runs on; copy it here, or set status.tokenFile)` };
    return { error: `cannot read the control token ${path} (${(err as Error).message}): run as the user who runs klink` };
  }
}

/** Constant-time comparison of a presented token with the expected one (hashes first, so lengths do not leak). */
export function sameToken(presented: string, expected: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}
