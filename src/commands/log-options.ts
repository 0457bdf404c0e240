/** `--log-format text|json`, `-v` and `-q` of the long-running commands: taken out of the arguments, applied to the logger. */
import { UserError } from "../errors.ts";
import { log, type LogFormat } from "../log.ts";

export const LOG_OPTIONS_USAGE = `Logging (stderr):
  --log-format text|json   text (default): time and line; json: one object per line
                           {time, level, msg, ...}; librdkafka's lines too, with facility and client
  -v                       also debug lines (librdkafka's harmless retries, its non-fatal errors)
  -q                       only warnings and errors`;

/** The logging options, for the usage and shell completion. */
export const LOG_FLAGS = ["--log-format", "-v", "-q"];

/** The arguments without the logging options, which are applied to `log`; none are looked for after `--`. */
export function takeLogOptions(args: string[]): string[] {
  const rest: string[] = [];
  let format: LogFormat | undefined;
  let verbose = false;
  let quiet = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      rest.push(...args.slice(i));
      break;
    }
    if (arg === "-v") verbose = true;
    else if (arg === "-q") quiet = true;
    else if (arg === "--log-format" || arg.startsWith("--log-format=")) {
      const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : args[++i];
      if (value !== "text" && value !== "json") throw new UserError(`--log-format takes text or json (got ${value === undefined ? "nothing" : `'${value}'`})`);
      format = value;
    } else rest.push(arg);
  }
  if (verbose && quiet) throw new UserError("give -v (more) or -q (less), not both");
  log.configure({ format, level: verbose ? "debug" : quiet ? "warn" : "info" });
  return rest;
}
