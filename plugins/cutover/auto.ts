/**
 * cutover/auto: each group is handed off as soon as its last member has left the source, and a
 * topic is promoted once no producer has written to it on the source for `quietSeconds` and all
 * its linked groups read on the target. klink still checks the safety conditions itself.
 */
import type { JsonSchema } from "../../src/config/schema.ts";
import type { Cutover } from "../plugin.ts";

export const name = "auto";
export const kind = "cutover";

export interface AutoOptions {
  quietSeconds: number;
  promote: boolean;
}

export const optionsSchema: JsonSchema = {
  description: "Hand off each group as soon as it has left the source; promote a topic when producers and groups have all moved.",
  type: "object",
  additionalProperties: false,
  properties: {
    quietSeconds: {
      description: "promote a topic once no producer has written to it on the source for this long (and no linked group reads it there)",
      type: "integer",
      minimum: 10,
      default: 300,
    },
    promote: { description: "promote topics automatically (false: groups move by themselves, topics only on `klink promote`)", type: "boolean", default: true },
  },
  examples: [{ quietSeconds: 600 }, { promote: false }],
};

export function create(options: Partial<AutoOptions>): Cutover {
  const quietMs = (options.quietSeconds ?? 300) * 1000;
  const autoPromote = options.promote ?? true;
  return {
    handOff: () => ({ go: true }),
    promote: (t) => {
      if (t.requested) return { go: true };
      if (!autoPromote) return { go: false, reason: `waiting for \`klink promote ${t.topic}\`` };
      if (t.groupsOnSource > 0) return { go: false, reason: `${t.groupsOnSource} linked group(s) still read ${t.topic} on the source` };
      if (t.sinceLastSourceWriteMs !== null && t.sinceLastSourceWriteMs < quietMs) {
        return { go: false, reason: `a producer wrote to ${t.topic} on the source ${Math.round(t.sinceLastSourceWriteMs / 1000)} s ago (promote after ${quietMs / 1000} s of quiet)` };
      }
      return { go: true };
    },
  };
}
