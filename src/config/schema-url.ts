/**
 * Where migration.yaml's JSON Schema is published for editors: attached to each release, so the
 * URL names the version it describes. Until klink is published there, the local copy `klink init`
 * writes (the same as `klink schema`) is the reference.
 */
import { KLINK_VERSION } from "../version.ts";

export const SCHEMA_URL = `https://github.com/klink-dev/klink/releases/download/v${KLINK_VERSION}/migration.schema.json`;

/** The editor line for the local copy (the example's first line), and the published copy offered beside it. */
export const LOCAL_SCHEMA_LINE = "# yaml-language-server: $schema=./migration.schema.json";

export function withPublishedSchemaLine(yaml: string): string {
  // "# # ..." is no modeline: the editor keeps the local copy until the operator swaps the lines
  const offer = `# or the published copy (the local one is the reference until klink is published):\n# # yaml-language-server: $schema=${SCHEMA_URL}`;
  return yaml.replace(LOCAL_SCHEMA_LINE, `${LOCAL_SCHEMA_LINE}\n${offer}`);
}
