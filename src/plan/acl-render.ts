/** The ACL section of `klink plan` for people (link.aclSync). */
import { aclText } from "../rdkafka/acls.ts";
import type { AclPlan } from "./types.ts";

export function renderAcls(a: AclPlan): string[] {
  const removes = a.onlyOnTarget.filter((x) => x.run === "removes").length;
  const head = [`${a.create.length} to create on the target`, a.onlyOnTarget.length ? `${a.onlyOnTarget.length} only on the target` : "", removes ? `${removes} to remove` : ""];
  return [
    `ACLs (link.aclSync, deletions: ${a.deletions}): ${head.filter(Boolean).join(", ")}`,
    ...a.create.map((b) => `  create              ${aclText(b)}`),
    ...a.onlyOnTarget.map((x) => `  only on the target  ${aclText(x.binding)} (klink run ${x.run === "removes" ? "removes it" : "keeps it"}: ${x.why})`),
    ...a.unsupported.map((b) => `  not copied          ${aclText(b)} (librdkafka cannot express this resource type or operation: add it on the target with kafka-acls.sh)`),
  ];
}
