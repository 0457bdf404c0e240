/** Loading migration.yaml for a command: problems are printed, one per line, and end it with exit code 1. */
import { ConfigError } from "../config/issues.ts";
import { loadConfig, type Loaded } from "../config/load.ts";
import { log } from "../log.ts";
import { EXIT_USER } from "./command.ts";

/** The config, or the exit code after printing its errors (and warnings) to stderr. From then on the logger redacts its secrets. */
export async function loadForCommand(command: string, file: string): Promise<Loaded | number> {
  try {
    const loaded = await loadConfig(file);
    log.redactWith((text) => loaded.config.secrets.redact(text));
    for (const w of loaded.warnings) log.report("warn", w);
    return loaded;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const line of err.lines) log.report("error", line);
    log.report("error", `klink ${command}: ${err.summary}`);
    return EXIT_USER;
  }
}
