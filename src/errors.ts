/**
 * Errors every layer may throw. Kept here, below config/, link/, plugins/ and commands/, so
 * that the layers that throw them need not import the CLI that reports them.
 */

/** Thrown for mistakes the user can fix (bad flag, bad file); the CLI prints the message only (exit code 1). */
export class UserError extends Error {
  override name = "UserError";
}
