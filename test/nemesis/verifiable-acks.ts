/** The records a VerifiableProducer had acknowledged, from its "producer_send_success" events. */
import type { VerifiableTool } from "../harness/tools.ts";
import type { Expected } from "./acked-oracle.ts";

/** Its values are `<value-prefix>.<counter>`: unique per instance, so the value is the record's id. */
export function ackedBy(tool: VerifiableTool): Expected[] {
  return tool.collected().filter((e) => e.name === "producer_send_success").map((e) => ({ id: String(e.value), partition: e.partition, offset: e.offset }));
}

export function ackSummary(tool: VerifiableTool): string {
  const events = tool.collected();
  const acked = events.filter((e) => e.name === "producer_send_success").length;
  const failed = events.filter((e) => e.name === "producer_send_error").length;
  return `${acked} acknowledged, ${failed} failed`;
}
