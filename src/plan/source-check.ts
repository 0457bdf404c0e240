/** The source's release and what klink cannot do on it (source-apis.ts), for `plan` and `run`. */
import type { ClientSettings } from "../config/clients.ts";
import type { MigrationConfig } from "../config/types.ts";
import { kafkaRelease, readApiVersions, sourceProblems } from "./source-apis.ts";
import type { Problem } from "./types.ts";

export async function checkSource(config: MigrationConfig, settings: ClientSettings): Promise<{ release: string; problems: Problem[] }> {
  let versions;
  try {
    versions = await readApiVersions(settings);
  } catch (err) {
    const message = `cannot read its API versions, so klink cannot tell what an old broker lacks: ${(err as Error).message}`;
    return { release: "Kafka ?", problems: [{ severity: "warning", subject: "source cluster", message }] };
  }
  const groups = config.groups.names.length + config.groups.patterns.length > 0;
  return { release: kafkaRelease(versions), problems: sourceProblems(versions, groups) };
}
