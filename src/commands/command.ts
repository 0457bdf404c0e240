import type { ArgSpec } from "./args.ts";

/** One CLI sub-command. `run` returns the process exit code:
 *  0 ok, 1 user error (config, arguments), 2 runtime error (cluster unreachable, auth failed). */
export interface Command {
  name: string;
  /** One line for `klink --help`. */
  summary: string;
  /** Full text for `klink NAME --help`. */
  usage: string;
  /** Its arguments: parsed by parseArgs, completed by `klink completion`. */
  spec: ArgSpec;
  run(args: string[]): Promise<number>;
}

export const EXIT_OK = 0;
export const EXIT_USER = 1;
export const EXIT_RUNTIME = 2;
