/**
 * `klink plan`'s view of ACL sync (link.aclSync): the source's bindings that concern the link and
 * the target lacks (what `klink run` creates), those on the target the source does not have (and
 * what run does with them), those never copied; and what klink's own principal lacks for the sync
 * and for dual write, which klink reports and never grants itself.
 */
import type { Admin } from "../rdkafka/admin.ts";
import { aclKey, type AclOperation } from "../rdkafka/acls.ts";
import type { MigrationConfig } from "../config/types.ts";
import type { Store } from "../state/store.ts";
import { aclDiff, aclsCreated, readAcls } from "../link/acl-sync.ts";
import type { AclPlan, Problem } from "./types.ts";

type Report = (severity: Problem["severity"], subject: string, message: string) => void;

/** `topics`: the linked topics not promoted; `promoted`: those promoted (their bindings are not synced). */
export async function aclPlan(config: MigrationConfig, admins: { source: Admin; target: Admin }, store: Store, topics: string[], promoted: string[], sourceGroups: string[], problem: Report): Promise<AclPlan | null> {
  const s = config.link.aclSync;
  if (!s.enabled) return null;
  await ownNeeds(admins, topics, problem);
  const read = (role: "source" | "target") =>
    readAcls(admins[role], role).catch((err: Error) => {
      problem("error", `${role} cluster`, `ACL sync: ${err.message}`);
      return null;
    });
  const [source, target] = await Promise.all([read("source"), read("target")]);
  if (!source || !target) return null;
  const created = await aclsCreated(store);
  const diff = aclDiff(source, target, { topics, groups: config.groups, sourceGroups, promoted }, s.principals, created);
  const ours = new Set(created.map(aclKey));
  const removed = new Set(s.deletions === "mirror" ? diff.removable.map(aclKey) : []);
  const onlyOnTarget = new Map([...diff.onlyOnTarget, ...diff.removable].map((b) => [aclKey(b), b]));
  return {
    deletions: s.deletions,
    create: diff.create,
    onlyOnTarget: [...onlyOnTarget.values()].map((binding) => {
      const key = aclKey(binding);
      const why = removed.has(key) ? "klink created it and the source no longer has it (deletions: mirror)"
        : !ours.has(key) ? "klink did not create it"
        : s.deletions === "keep" ? "deletions: keep"
        : "klink created it; the source still has it, or its topic is promoted";
      return { binding, run: removed.has(key) ? "removes" : "keeps", why };
    }),
    unsupported: diff.unsupported,
  };
}

const may = (ops: AclOperation[] | null | undefined, op: AclOperation) => !ops || ops.includes(op) || ops.includes("ALL");

/** What klink's principal lacks beyond reading ACLs (KIP-430 authorized operations; a broker that does not say is taken to allow). */
async function ownNeeds(admins: { source: Admin; target: Admin }, topics: string[], problem: Report): Promise<void> {
  const [source, target] = await Promise.all([
    admins.source.authorizedOperations(topics).catch(() => null),
    admins.target.authorizedOperations([]).catch(() => null),
  ]);
  // without DESCRIBE, reading the ACLs fails and says what to grant (readAcls)
  if (target && may(target.cluster, "DESCRIBE") && !may(target.cluster, "ALTER")) {
    problem("error", "target cluster", "ACL sync: klink's principal lacks ALTER on the target cluster (to create and delete ACLs); grant it yourself: klink does not grant itself anything");
  }
  const unwritable = topics.filter((t) => source && !may(source.topics.get(t), "WRITE"));
  if (unwritable.length) {
    problem("warning", "source cluster", `klink's principal lacks WRITE on linked topic${unwritable.length > 1 ? "s" : ""} ${unwritable.join(", ")} on the source: during dual write klink writes the records producers wrote to the target there; ACL sync does not grant it (grant it yourself before producers move)`);
  }
}
