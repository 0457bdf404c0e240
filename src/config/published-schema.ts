/**
 * The schema `klink schema` prints for editors: migration.yaml's schema, with the options of
 * each built-in plugin checked where `plugin:` names it (klink itself validates plugin options
 * separately, to prefix their messages with the plugin's name).
 */
import { builtins } from "../../plugins/registry.ts";
import type { PluginKind } from "../../plugins/plugin.ts";
import { migrationSchema, type JsonSchema } from "./schema.ts";

export function publishedSchema(): JsonSchema {
  const schema = structuredClone(migrationSchema) as any;
  const withOptions = (ref: JsonSchema, kind: PluginKind) => ({
    ...ref,
    allOf: builtins
      .filter((p) => p.kind === kind)
      .map((p) => ({
        if: { properties: { plugin: { const: p.name } }, required: ["plugin"] },
        then: { properties: { options: p.optionsSchema } },
      })),
  });
  for (const role of ["source", "target"]) {
    schema.properties.clusters.properties[role].properties.auth = withOptions(schema.properties.clusters.properties[role].properties.auth, "auth");
  }
  schema.properties.cutover = withOptions(schema.properties.cutover, "cutover");
  schema.properties.storage = withOptions(schema.properties.storage, "storage");
  return JSON.parse(JSON.stringify(schema));
}
