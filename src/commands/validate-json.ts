/** `klink validate --json`: the verdict on stdout as one JSON document, valid or not. */
import { ConfigError } from "../config/issues.ts";
import { loadConfig } from "../config/load.ts";
import { plainConfig } from "../config/plain.ts";
import { EXIT_OK, EXIT_USER } from "./command.ts";

export async function validateJson(file: string): Promise<number> {
  try {
    const { config, warnings } = await loadConfig(file);
    const verdict = { file, valid: true, errors: [], warnings, config: plainConfig(config) };
    console.log(config.secrets.redact(JSON.stringify(verdict, null, 2)));
    return EXIT_OK;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // the lines are as on stderr without --json: FILE:LINE:COLUMN: PATH: MESSAGE (warnings say so)
    const isWarning = (line: string) => / warning: /.test(line);
    const verdict = { file, valid: false, summary: err.summary, errors: err.lines.filter((l) => !isWarning(l)), warnings: err.lines.filter(isWarning), config: null };
    console.log(JSON.stringify(verdict, null, 2));
    return EXIT_USER;
  }
}
