/**
 * ACL bindings as plain JS objects, and their conversion to and from librdkafka's
 * rd_kafka_AclBinding_t (admin.ts describeAcls / createAcls / deleteAcls use these).
 * librdkafka 2.x knows the resource types TOPIC, GROUP, BROKER (the cluster) and
 * TRANSACTIONAL_ID: a binding on a DELEGATION_TOKEN or USER resource comes back as UNKNOWN and
 * cannot be created through it; likewise the operations CREATE_TOKENS and DESCRIBE_TOKENS.
 */
import { read } from "bun:ffi";
import { rdkafka, cbuf } from "./library.ts";
import { KafkaError, ErrorCode } from "./errors.ts";

/** By librdkafka's rd_kafka_ResourceType_t values; BROKER is Kafka's CLUSTER resource. */
const RESOURCE_TYPES = ["UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID"] as const;
const PATTERN_TYPES = ["UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"] as const;
const OPERATIONS = [
  "UNKNOWN", "ANY", "ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE", "CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE",
] as const;
const PERMISSIONS = ["UNKNOWN", "ANY", "DENY", "ALLOW"] as const;

export type AclResourceType = (typeof RESOURCE_TYPES)[number];
export type AclPatternType = (typeof PATTERN_TYPES)[number];
export type AclOperation = (typeof OPERATIONS)[number];
export type AclPermission = (typeof PERMISSIONS)[number];

/** One ACL binding: who (principal, host) may or may not (permission) do what (operation) on which resources. */
export interface AclBinding {
  resourceType: AclResourceType;
  /** The resource name ("kafka-cluster" for the cluster), or a prefix when `patternType` is PREFIXED; "*" matches every name. */
  name: string;
  patternType: AclPatternType;
  /** "User:alice" */
  principal: string;
  /** "*" or an IP address. */
  host: string;
  operation: AclOperation;
  permission: AclPermission;
}

/** Which bindings a describe or delete matches: a field left out matches any value. */
export type AclFilter = Partial<AclBinding>;

/** Operation names of a librdkafka rd_kafka_AclOperation_t array (authorized operations); null for a NULL array. */
export function readOperations(arr: number | null, count: number): AclOperation[] | null {
  if (!arr) return null;
  return Array.from({ length: count }, (_, i) => OPERATIONS[read.i32(arr as never, i * 4)] ?? "UNKNOWN");
}

/** A stable text of a binding, for sets and maps. */
export function aclKey(b: AclBinding): string {
  return [b.resourceType, b.patternType, b.name, b.principal, b.host, b.operation, b.permission].join("\u0000");
}

/** "ALLOW User:alice READ on TOPIC orders (LITERAL) from *", for people. */
export function aclText(b: AclBinding): string {
  const host = b.host === "*" ? "" : ` from ${b.host}`;
  return `${b.permission} ${b.principal} ${b.operation} on ${b.resourceType} ${b.patternType === "PREFIXED" ? `${b.name}* (prefixed)` : b.name}${host}`;
}

const code = <T extends string>(table: readonly T[], name: T, what: string): number => {
  const i = table.indexOf(name);
  if (i <= 0) throw new KafkaError(ErrorCode.INVALID_ARG, `ACL binding: unknown ${what} ${name}`);
  return i;
};

/**
 * A native binding (or, with `filter`, a binding filter whose missing fields match anything);
 * caller frees: rd_kafka_AclBinding_destroy.
 */
export function newNativeAcl(b: AclFilter, filter: boolean): number {
  const lib = rdkafka();
  const errstr = Buffer.alloc(512);
  const str = (s: string | undefined) => (s === undefined ? null : cbuf(s));
  const [name, principal, host] = [str(b.name), str(b.principal), str(b.host)];
  const args = [
    b.resourceType ? code(RESOURCE_TYPES, b.resourceType, "resource type") : 1,
    name,
    b.patternType ? code(PATTERN_TYPES, b.patternType, "pattern type") : 1,
    principal,
    host,
    b.operation ? code(OPERATIONS, b.operation, "operation") : 1,
    b.permission ? code(PERMISSIONS, b.permission, "permission") : 1,
  ] as const;
  const made = filter
    ? lib.rd_kafka_AclBindingFilter_new(...args, errstr, errstr.length)
    : lib.rd_kafka_AclBinding_new(...args, errstr, errstr.length);
  if (!made) throw new KafkaError(ErrorCode.INVALID_ARG, `ACL binding ${JSON.stringify(b)}: ${errstr.toString("utf8", 0, errstr.indexOf(0))}`);
  return made;
}

/** Copies a native binding (borrowed of a result event) into a plain object. */
export function readNativeAcl(acl: number): AclBinding {
  const lib = rdkafka();
  return {
    resourceType: RESOURCE_TYPES[lib.rd_kafka_AclBinding_restype(acl)] ?? "UNKNOWN",
    name: String(lib.rd_kafka_AclBinding_name(acl)),
    patternType: PATTERN_TYPES[lib.rd_kafka_AclBinding_resource_pattern_type(acl)] ?? "UNKNOWN",
    principal: String(lib.rd_kafka_AclBinding_principal(acl)),
    host: String(lib.rd_kafka_AclBinding_host(acl)),
    operation: OPERATIONS[lib.rd_kafka_AclBinding_operation(acl)] ?? "UNKNOWN",
    permission: PERMISSIONS[lib.rd_kafka_AclBinding_permission_type(acl)] ?? "UNKNOWN",
  };
}
