/**
 * ACL sync (`link.aclSync`): every ACL_SYNC_INTERVAL_MS the source's bindings that concern the link
 * (acl-scope.ts) are created on the target when it lacks them. A binding removed on the source is
 * removed on the target only under `deletions: mirror`, and only when klink created it there: klink
 * records each binding it creates in its state, so bindings the target had before, or that
 * operators add there, are never removed. klink never grants anything to itself: the bindings it
 * needs (DESCRIBE on the source cluster, DESCRIBE and ALTER on the target cluster, WRITE on the
 * source's linked topics for dual write) are reported by `klink plan`; a refusal in a round is
 * logged once with what to grant.
 */
import { BackgroundRound } from "./background-round.ts";
import { Admin, ErrorCode, KafkaError } from "../rdkafka/index.ts";
import { aclKey, aclText, type AclBinding } from "../rdkafka/acls.ts";
import type { AclSyncSettings, Selection } from "../config/types.ts";
import { targetIsPrimary, type Store } from "../state/store.ts";
import type { Cluster } from "./cluster.ts";
import { aclInScope, aclOnPromotedTopic, aclOnTarget, unsupportedAcl, type AclScope } from "./acl-scope.ts";

export const ACL_SYNC_INTERVAL_MS = 10_000;
/** The bindings klink created on the target (JSON array), the only ones `deletions: mirror` may remove. */
export const ACLS_CREATED_KEY = "aclSync.created";

export interface AclDiff {
  /** Bindings of the source, as the target gets them, that the target lacks. */
  create: AclBinding[];
  /** Bindings klink created on the target that the source no longer has: removed under `deletions: mirror`. */
  removable: AclBinding[];
  /** Bindings on the target that concern the link but not on the source (klink's own included, see `removable`). */
  onlyOnTarget: AclBinding[];
  /** Source bindings librdkafka cannot express: never copied. */
  unsupported: AclBinding[];
}

export function aclDiff(source: AclBinding[], target: AclBinding[], scope: AclScope, principals: AclSyncSettings["principals"], created: AclBinding[]): AclDiff {
  const renamed = (bs: AclBinding[]) => bs.map((b) => aclOnTarget(b, principals)).filter((b): b is AclBinding => b !== null);
  const supported = source.filter((b) => !unsupportedAcl(b));
  const wanted = new Map(renamed(supported.filter((b) => aclInScope(b, scope))).map((b) => [aclKey(b), b]));
  const onSource = new Set(renamed(supported).map(aclKey));
  const onTarget = new Set(target.map(aclKey));
  return {
    create: [...wanted.values()].filter((b) => !onTarget.has(aclKey(b))),
    removable: created.filter((b) => onTarget.has(aclKey(b)) && !onSource.has(aclKey(b)) && !aclOnPromotedTopic(b, scope)),
    onlyOnTarget: target.filter((b) => aclInScope(b, scope) && !wanted.has(aclKey(b))),
    unsupported: source.filter(unsupportedAcl),
  };
}

export async function aclsCreated(store: Store): Promise<AclBinding[]> {
  return JSON.parse((await store.get(ACLS_CREATED_KEY)) ?? "[]") as AclBinding[];
}

/** What klink's principal lacks, for people: the permission and where, from a refusal. */
export function aclPermissionHint(role: "source" | "target", err: unknown): string {
  if (err instanceof KafkaError && err.codeName === "SECURITY_DISABLED") return `the ${role} cluster has no authorizer (authorizer.class.name): it keeps no ACLs`;
  if (err instanceof KafkaError && /AUTHORIZATION_FAILED/.test(err.codeName)) {
    return `klink's principal may not ${role === "source" ? "describe ACLs on the source: grant it DESCRIBE on the source cluster" : "manage ACLs on the target: grant it DESCRIBE and ALTER on the target cluster"} (klink does not grant itself anything)`;
  }
  return (err as Error).message;
}

/**
 * The cluster's bindings, or an error that says what klink's principal lacks. librdkafka drops the
 * error of a refused DescribeAcls and answers no bindings, which under `deletions: mirror` would
 * remove every binding klink created: whether the principal may describe is asked first (KIP-430).
 */
export async function readAcls(admin: Admin, role: "source" | "target"): Promise<AclBinding[]> {
  const refused = (err: unknown) => Promise.reject(new Error(aclPermissionHint(role, err)));
  const { cluster } = await admin.authorizedOperations([]).catch(refused);
  if (cluster && !cluster.includes("DESCRIBE") && !cluster.includes("ALL")) return refused(new KafkaError(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "describe ACLs"));
  return admin.describeAcls().catch(refused);
}

export interface AclSyncContext {
  source: Cluster;
  target: Cluster;
  /** klink's state: the bindings it created, and which topics are promoted (the target is their authority: not synced). */
  store: Store;
  settings: AclSyncSettings;
  topics: string[];
  groups: Selection;
  log: (line: string) => void;
}

/** Runs beside the link (its own admin clients and timer): `start()` after the link started, `close()` before the state closes. */
export class AclSync {
  private readonly rounds = new BackgroundRound(ACL_SYNC_INTERVAL_MS, () =>
    this.syncOnce().catch((err) => this.once(`round\0${(err as Error).message}`, `ACL sync: ${(err as Error).message}; tried again in ${ACL_SYNC_INTERVAL_MS / 1000} s`)));
  /** Lines already logged: said once. */
  private readonly said = new Set<string>();

  private sourceAdmin!: Admin;
  private targetAdmin!: Admin;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly c: AclSyncContext) {}

  start(): void {
    this.sourceAdmin = new Admin(this.c.source.config, this.c.source.options);
    this.targetAdmin = new Admin(this.c.target.config, this.c.target.options);
    this.timer = setInterval(() => this.rounds.tick(), 1_000);
  }

  /** Topics created on the source after start, now linked (new-topics.ts): their bindings are synced from the next round. */
  addTopics(names: string[]): void {
    this.c.topics.push(...names);
  }

  async close(): Promise<void> {
    if (!this.timer) return;
    clearInterval(this.timer);
    await this.rounds.idle();
    this.sourceAdmin.close();
    this.targetAdmin.close();
  }

  private async syncOnce(): Promise<void> {
    const [source, target, groups, states] = await Promise.all([
      readAcls(this.sourceAdmin, "source"),
      readAcls(this.targetAdmin, "target"),
      this.sourceAdmin.listConsumerGroups(),
      this.c.store.topics(),
    ]);
    const promoted = states.filter((t) => targetIsPrimary(t.state)).map((t) => t.topic);
    const topics = this.c.topics.filter((t) => !promoted.includes(t));
    if (topics.length === 0) return; // every topic promoted: the target is the authority, the migration is over
    const scope: AclScope = { topics, groups: this.c.groups, sourceGroups: groups.map((g) => g.groupId), promoted };
    const created = await aclsCreated(this.c.store);
    const diff = aclDiff(source, target, scope, this.c.settings.principals, created);
    for (const b of diff.unsupported) this.once(`unsupported\0${aclKey(b)}`, `ACL sync: not copied (librdkafka cannot express it; add it on the target with kafka-acls.sh): ${aclText(b)}`);
    for (const b of diff.create) {
      try {
        await this.targetAdmin.createAcls([b]);
      } catch (err) {
        // a target without an authorizer refuses every binding: said once for all (librdkafka's DescribeAcls could not tell)
        if (err instanceof KafkaError && err.codeName === "SECURITY_DISABLED") throw new Error(`${aclPermissionHint("target", err)}: enable one there to sync ACLs`);
        this.once(`create\0${aclKey(b)}`, `ACL sync: the target refused ${aclText(b)}: ${aclPermissionHint("target", err)}`);
        continue;
      }
      created.push(b);
      await this.record(created);
      this.c.log(`ACL sync: created on the target: ${aclText(b)}`);
    }
    if (this.c.settings.deletions !== "mirror") return;
    for (const b of diff.removable) {
      try {
        await this.targetAdmin.deleteAcls([b]);
      } catch (err) {
        this.once(`delete\0${aclKey(b)}`, `ACL sync: the target refused to remove ${aclText(b)}: ${aclPermissionHint("target", err)}`);
        continue;
      }
      created.splice(created.findIndex((x) => aclKey(x) === aclKey(b)), 1);
      await this.record(created);
      this.c.log(`ACL sync: removed from the target as on the source (deletions: mirror): ${aclText(b)}`);
    }
  }

  private record(created: AclBinding[]): Promise<void> {
    return this.c.store.write([{ put: ACLS_CREATED_KEY, value: JSON.stringify(created) }]);
  }

  private once(key: string, line: string): void {
    if (this.said.has(key)) return;
    this.said.add(key);
    this.c.log(line);
  }
}
