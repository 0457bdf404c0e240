/**
 * cutover/manual: nothing moves until the operator says so. A group is handed off on
 * `klink handoff GROUP`, a topic promoted on `klink promote TOPIC` (klink still waits until it
 * is safe: the group's last member has left the source, the topic is drained).
 */
import type { JsonSchema } from "../../src/config/schema.ts";
import type { Cutover } from "../plugin.ts";

export const name = "manual";
export const kind = "cutover";

export const optionsSchema: JsonSchema = {
  description: "Hand off each group and promote each topic only on the operator's command (`klink handoff`, `klink promote`). The default.",
  type: "object",
  additionalProperties: false,
  properties: {},
  examples: [{}],
};

export function create(): Cutover {
  return {
    handOff: (g) => (g.requested ? { go: true } : { go: false, reason: `waiting for \`klink handoff ${g.group}\`` }),
    promote: (t) => (t.requested ? { go: true } : { go: false, reason: `waiting for \`klink promote ${t.topic}\`` }),
  };
}
