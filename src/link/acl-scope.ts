/**
 * Which of the source's ACL bindings concern a link, and how each looks on the target (ACL sync,
 * acl-sync.ts). A binding concerns the link when its resource pattern matches what the link moves:
 * - TOPIC: a linked topic (a literal name, "*", or a prefix of one);
 * - GROUP: a group under `groups:` (a literal name, "*", or a prefix of a listed name or of a
 *   selected group that exists on the source);
 * - CLUSTER and TRANSACTIONAL_ID: every binding (they are not tied to topics).
 * After promote a topic's bindings are neither copied nor removed any more.
 * Bindings are copied as they are (ALLOW WRITE and ALL included, unlike MirrorMaker 2), with the
 * principal renamed by `aclSync.principals`. Bindings of resource types or operations librdkafka
 * cannot express (DELEGATION_TOKEN, USER, CREATE_TOKENS, DESCRIBE_TOKENS) are never copied: they are
 * reported as unsupported.
 */
import type { AclBinding } from "../rdkafka/acls.ts";
import type { Selection } from "../config/types.ts";
import { selects } from "../config/select.ts";

export interface AclScope {
  /** The linked topics (not promoted). */
  topics: string[];
  /** `groups:` */
  groups: Selection;
  /** Group ids on the source, to tell which a prefixed pattern matches among those `groups:` selects. */
  sourceGroups: string[];
  /** Topics promoted (the target is their authority): bindings on them are never removed by the sync. */
  promoted: string[];
}

const matches = (b: AclBinding, names: string[]): boolean =>
  b.patternType === "PREFIXED" ? names.some((n) => n.startsWith(b.name)) : b.name === "*" || names.includes(b.name);

/** librdkafka could not read some part of it (a delegation token or user resource, a token operation). */
export function unsupportedAcl(b: AclBinding): boolean {
  return b.resourceType === "UNKNOWN" || b.operation === "UNKNOWN" || b.permission === "UNKNOWN" || b.patternType === "UNKNOWN";
}

/** Whether `b` (a source or a target binding) concerns the link. */
export function aclInScope(b: AclBinding, scope: AclScope): boolean {
  if (unsupportedAcl(b)) return false;
  switch (b.resourceType) {
    case "TOPIC":
      return matches(b, scope.topics);
    case "GROUP": {
      if (b.patternType === "LITERAL" && (b.name === "*" || selects(scope.groups, b.name))) return true;
      const groups = [...scope.groups.names, ...scope.sourceGroups].filter((g) => selects(scope.groups, g));
      return b.patternType === "PREFIXED" && matches(b, groups);
    }
    case "CLUSTER":
    case "TRANSACTIONAL_ID":
      return true;
    default:
      return false;
  }
}

/** A topic binding that covers a promoted topic: the target decides about it now. */
export function aclOnPromotedTopic(b: AclBinding, scope: AclScope): boolean {
  return b.resourceType === "TOPIC" && matches(b, scope.promoted);
}

/** The binding as the target gets it: its principal renamed; null when `principals` maps it to null (not copied). */
export function aclOnTarget(b: AclBinding, principals: Record<string, string | null>): AclBinding | null {
  if (!(b.principal in principals)) return b;
  const renamed = principals[b.principal];
  return renamed === null || renamed === undefined ? null : { ...b, principal: renamed };
}
