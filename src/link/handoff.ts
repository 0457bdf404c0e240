/**
 * Consumer group handoff (docs/read-fence.md; the group states: docs/lifecycle.md).
 *
 * For every linked group klink watches both clusters. A classic-protocol group is *fenced* on the
 * target from the start: klink leads it there and gives every member an empty assignment
 * (src/group/fence.ts), so members that already moved read nothing. When the group's last member
 * has left the source and the cutover policy agrees, klink copies the group's committed offsets
 * to the target (identical in exact mode, through the offset map otherwise: never past a record
 * the group had not read) and leaves: the rebalance that follows gives the waiting members their
 * partitions. Groups klink cannot fence (consumer-protocol groups, groups with no committed
 * offsets) are reported as drain-then-switch: stop them on the source, then start them on the
 * target.
 *
 * Rollback (before promote) is the same move the other way: a handed-off group is held on the
 * source, and when its last member has left the target its offsets are translated back.
 */
import { Admin } from "../rdkafka/index.ts";
import type { GroupDescription, GroupMember } from "../rdkafka/admin.ts";
import { GroupFence, type FenceEvent } from "../group/index.ts";
import { emptiedAt } from "../group/emptied-at.ts";
import { stateKey } from "./partition/state.ts";
import type { Cutover } from "../../plugins/plugin.ts";
import type { GroupLifecycle, Store } from "../state/store.ts";
import { groupSettings, type Cluster } from "./cluster.ts";

/** Assignor names offered besides those the group uses on the source (so any member matches). */
const COMMON_ASSIGNORS = ["range", "roundrobin", "sticky", "cooperative-sticky"];
/**
 * How long klink keeps members that join a fenced group waiting inside JoinGroup (GroupFence's
 * parking): a handoff in that time wakes them at once instead of at their next heartbeat. Below
 * the clients' default max.poll.interval.ms (300 s), their JoinGroup timeout; a client with a
 * shorter one times its JoinGroup out and sends it again, reading nothing meanwhile (tested with
 * librdkafka and Java). klink's rebalance timeout leaves room for it: the coordinator would drop
 * a leader that has not rejoined by then.
 */
const FENCE = { parkMs: 240_000, rebalanceTimeoutMs: 300_000 };

export interface GroupProgress {
  group: string;
  /** Lifecycle, or "drain-then-switch" for a group klink cannot fence, "rolling-back" while held on the source. */
  state: GroupLifecycle | "drain-then-switch" | "rolling-back";
  /** Members active on each cluster (the target's without klink's own). */
  sourceMembers: number;
  targetMembers: number;
  /** The members on each cluster: `client id@host #member id's last 8 characters` (clients named alike told apart). */
  sourceClients: string[];
  targetClients: string[];
  /** Why it waits, or what happened. */
  detail: string;
  /** Committed offsets of linked topics where the group reads now (refreshed every 5 s). */
  committed: { cluster: "source" | "target"; offsets: Array<{ topic: string; partition: number; offset: number }> } | null;
  /** While klink holds the group and the cluster it leaves has no member (nobody reads): ms since then; else null. */
  pausedMs?: number | null;
  /** The last handoff's (or rollback's) pause in this process, in ms, from `emptiedAt`; null before one, or when not known. */
  lastPauseMs?: number | null;
  /** When the coordinator of the cluster the group left last saw it empty (ISO time, from its own record); null when not known. */
  emptiedAt?: string | null;
  /** When klink last handed the group off (or moved it back), ISO time; null before. */
  handedOffAt?: string | null;
}

export interface HandoffOptions {
  linkName: string;
  source: Cluster;
  target: Cluster;
  store: Store;
  cutover: Cutover;
  /** Groups to watch: those selected now on the source, plus any in the store. */
  groups: string[];
  /** Linked topics: only their offsets move. */
  topics: string[];
  /**
   * The target offset where a group committed at source offset `offset` resumes, once the
   * Fetcher has copied that far; null while it has not.
   */
  translate: (topic: string, partition: number, offset: number) => Promise<number | null>;
  /** The same, target → source (rollback). */
  translateBack: (topic: string, partition: number, offset: number) => Promise<number | null>;
  /** A group was handed off (its topics' consumers are moving). */
  onHandedOff?: (group: string, topics: string[]) => Promise<void>;
  /** The fences' session timeout: how long a fence outlives a klink killed without a successor. */
  fenceSessionTimeoutMs?: number;
  log: (line: string) => void;
}

/** Where a group moves: the cluster it leaves and the one where klink holds it. */
type Direction = "to-target" | "to-source";

/**
 * Every member has left: the group is Empty (or gone). A member count of 0 is not enough: while
 * a group rebalances its description may list no members although they are still there.
 */
function left(d: { state: string }): boolean {
  return d.state === "Empty" || d.state === "Dead";
}

interface Group {
  id: string;
  /** Linked topics the group reads. */
  topics: string[];
  progress: GroupProgress;
  fence: GroupFence | null;
  direction: Direction;
  /** When klink first saw the cluster it leaves without members (ms), for the pause while it waits. */
  emptySince: number | null;
  /** When klink last saw members on the cluster it leaves (ms); null: none since klink watches it. */
  membersSeenAt: number | null;
  requested: boolean;
  busy: boolean;
}

export class GroupHandoff {
  private readonly groups = new Map<string, Group>();
  private sourceAdmin!: Admin;
  private targetAdmin!: Admin;
  private timer: Timer | null = null;
  private ticking = false;
  private lastTickError = "";

  /** GroupFence's parking and timeouts, with the session this link's fences keep (HandoffOptions). */
  private readonly fenceTimings: typeof FENCE & { sessionTimeoutMs?: number };

  constructor(private readonly options: HandoffOptions) {
    this.fenceTimings = { ...FENCE, ...(options.fenceSessionTimeoutMs ? { sessionTimeoutMs: options.fenceSessionTimeoutMs } : {}) };
  }

  async start(): Promise<void> {
    const o = this.options;
    this.sourceAdmin = new Admin(o.source.config, o.source.options);
    this.targetAdmin = new Admin(o.target.config, o.target.options);
    const stored = new Map((await o.store.groups()).map((g) => [g.group, g]));
    const ids = [...new Set([...o.groups, ...stored.keys()])];
    await Promise.all(ids.map((id) => this.prepare(id, stored.get(id)?.state ?? null)));
    this.timer = setInterval(() => void this.tick(), 200);
    this.offsetsTimer = setInterval(() => void this.refreshCommitted(), 5_000);
    void this.refreshCommitted();
  }

  private offsetsTimer: Timer | null = null;

  /** Each group's committed offsets where it reads now (for status). */
  private async refreshCommitted(): Promise<void> {
    for (const g of this.groups.values()) {
      const cluster = g.progress.state === "handed-off" ? "target" : "source";
      try {
        const offsets = await (cluster === "target" ? this.targetAdmin : this.sourceAdmin).listConsumerGroupOffsets(g.id);
        g.progress.committed = { cluster, offsets: offsets.filter((c) => this.options.topics.includes(c.topic)).map(({ topic, partition, offset }) => ({ topic, partition, offset })) };
      } catch {
        // unreachable for a moment: keep the last answer
      }
    }
  }

  /** Decides how `id` moves, and fences it on the target when it can. */
  private async prepare(id: string, stored: GroupLifecycle | null): Promise<void> {
    const o = this.options;
    const g: Group = {
      id, topics: [], fence: null, direction: "to-target", emptySince: null, membersSeenAt: null, requested: false, busy: false,
      progress: { group: id, state: stored ?? "watching", sourceMembers: 0, targetMembers: 0, sourceClients: [], targetClients: [], detail: "", committed: null },
    };
    this.groups.set(id, g);
    if (stored === "handed-off") {
      g.progress.detail = "handed off to the target";
      if (await o.store.get(stateKey.rollback(id))) await this.holdOnSource(g);
      else await this.guardSource(g);
      return;
    }
    const [desc] = await this.sourceAdmin.describeConsumerGroups([id]);
    const committed = await this.sourceAdmin.listConsumerGroupOffsets(id).catch(() => []);
    const topics = [...new Set(committed.map((c) => c.topic).concat(desc!.members.flatMap((m) => m.assignment.map((a) => a.topic))))].filter((t) => o.topics.includes(t));
    g.topics = topics;
    this.observeSource(g, desc!);
    if (desc!.type === "Consumer") return this.cannotFence(g, "it uses the consumer group protocol (KIP-848), whose server-side assignment klink cannot hold");
    // Kafka Streams' assignor cannot read an empty assignment (docs/read-fence.md); plan says the same.
    if (desc!.partitionAssignor === "stream") return this.cannotFence(g, "it is a Kafka Streams application, whose assignor cannot take the empty assignment of the read fence");
    if (committed.length === 0) return this.cannotFence(g, "it has no committed offsets on the source to start from");
    if (topics.length === 0) return this.cannotFence(g, "it reads none of the linked topics");
    await this.holdOnTarget(g, [...new Set([desc!.partitionAssignor, ...COMMON_ASSIGNORS].filter(Boolean))]);
  }

  /** klink leads the group on the target: members there read nothing until the handoff. */
  private async holdOnTarget(g: Group, protocols: string[]): Promise<void> {
    const o = this.options;
    try {
      g.direction = "to-target";
      g.emptySince = null;
      g.fence = await GroupFence.hold({
        settings: groupSettings(o.target),
        groupId: g.id, topics: g.topics, protocols,
        // Static membership: a restarted klink takes its place (and the group's leadership) back.
        groupInstanceId: `klink-${o.linkName}-fence`,
        ...this.fenceTimings,
        onEvent: (e) => this.fenceEvent(g, e),
      });
      if (g.progress.state === "rolled-back") {
        g.progress.detail += "; held on the target again, so members still there read nothing";
      } else {
        g.progress.state = "fenced";
        g.progress.detail = "held on the target: members there read nothing until the handoff";
        await o.store.write([{ group: g.id, state: "fenced", detail: `assignors offered: ${protocols.join(", ")}` }]);
      }
      o.log(`group ${g.id}: fenced on the target (topics ${g.topics.join(", ")})`);
    } catch (err) {
      g.progress.detail = `cannot fence: ${(err as Error).message}`;
      o.log(`group ${g.id}: ${g.progress.detail}`);
    }
  }

  private cannotFence(g: Group, why: string): void {
    g.progress.state = "drain-then-switch";
    g.progress.detail = `not fenced: ${why}; stop its consumers on the source, then start them on the target`;
    this.options.log(`group ${g.id}: ${g.progress.detail}`);
  }

  private fenceEvent(g: Group, e: FenceEvent): void {
    // members are counted by tick() from DescribeGroups
    if (e.type === "lost") {
      g.progress.detail = `fence LOST: ${e.error.message}`;
      this.options.log(`group ${g.id}: ${g.progress.detail}`);
    }
  }

  private observeSource(g: Group, desc: GroupDescription): void {
    g.progress.sourceMembers = left(desc) ? 0 : Math.max(1, desc.members.length);
    g.progress.sourceClients = desc.members.map(memberName);
    this.observeLeaving(g, desc);
  }

  /** The cluster the group leaves, as its coordinator describes it. */
  private observeLeaving(g: Group, desc: GroupDescription): void {
    if (left(desc)) g.emptySince ??= Date.now();
    else {
      g.emptySince = null;
      g.membersSeenAt = Date.now();
    }
  }

  /** `klink rollback`: the handed-off groups reading `topics` are held on the source to move back. */
  async rollback(topics: string[]): Promise<string[]> {
    const lines: string[] = [];
    for (const g of this.groups.values()) {
      if (!g.topics.some((t) => topics.includes(t))) continue;
      if (g.progress.state === "fenced") {
        g.requested = false;
        lines.push(`group ${g.id}: not handed off yet; it stays on the source (its handoff request, if any, is withdrawn)`);
      } else if (g.progress.state === "handed-off") {
        await this.options.store.write([{ put: stateKey.rollback(g.id), value: "requested" }]);
        await this.holdOnSource(g);
        lines.push(`group ${g.id}: held on the source; it moves back when its last member has left the target`);
      } else if (g.progress.state === "rolling-back") {
        lines.push(`group ${g.id}: already moving back`);
      }
    }
    return lines;
  }

  /** Rollback: klink leads the group on the source so members returning there read nothing yet. */
  private async holdOnSource(g: Group): Promise<void> {
    const o = this.options;
    if (!g.fence) await this.fenceSource(g);
    g.direction = "to-source";
    g.emptySince = null;
    g.membersSeenAt = null;
    g.progress.state = "rolling-back";
    g.progress.detail = "held on the source: members returning there read nothing until the last has left the target";
    o.log(`group ${g.id}: rolling back; ${g.progress.detail}`);
  }

  /**
   * After a handoff (and for a rollback) klink leads the group on the source: a member that
   * starts there again by mistake reads nothing instead of reading records a second time.
   */
  private async fenceSource(g: Group): Promise<void> {
    const o = this.options;
    const committed = await this.targetAdmin.listConsumerGroupOffsets(g.id).catch(() => []);
    if (g.topics.length === 0) g.topics = [...new Set(committed.map((c) => c.topic))].filter((t) => o.topics.includes(t));
    const [desc] = await this.targetAdmin.describeConsumerGroups([g.id]);
    const protocols = [...new Set([desc!.partitionAssignor, ...COMMON_ASSIGNORS].filter(Boolean))];
    g.fence = await GroupFence.hold({
      settings: groupSettings(o.source),
      groupId: g.id, topics: g.topics, protocols, groupInstanceId: `klink-${o.linkName}-fence`, ...this.fenceTimings,
      onEvent: (e) => this.fenceEvent(g, e),
    });
  }

  /** A handed-off group, held on the source against stragglers (a failure is reported, not fatal). */
  private async guardSource(g: Group): Promise<void> {
    try {
      await this.fenceSource(g);
      g.progress.detail += "; held on the source, so a member starting there again reads nothing";
    } catch (err) {
      this.options.log(`group ${g.id}: not held on the source after the handoff: ${(err as Error).message}`);
    }
  }

  /** `klink handoff GROUP`: the operator's go for the policy. */
  request(group: string): string {
    const g = this.groups.get(group);
    if (!g) return `group ${group} is not linked (linked: ${[...this.groups.keys()].join(", ") || "none"})`;
    g.requested = true;
    if (g.progress.state === "handed-off") return `group ${group} was already handed off`;
    if (g.progress.sourceMembers > 0) return `group ${group}: handoff requested; it happens when its ${g.progress.sourceMembers} member(s) on the source have left`;
    return `group ${group}: handoff requested`;
  }

  /** `handoff --dry-run`: what request() would answer and do, without asking for anything. */
  preview(group: string): string {
    const g = this.groups.get(group);
    if (!g) return `group ${group} is not linked (linked: ${[...this.groups.keys()].join(", ") || "none"})`;
    const said = "dry run, nothing changed:";
    if (g.progress.state === "handed-off") return `${said} group ${group} was already handed off`;
    if (g.progress.sourceMembers > 0) return `${said} group ${group} would be handed off when its ${g.progress.sourceMembers} member(s) on the source have left (${g.progress.state} now)`;
    return `${said} group ${group} would be handed off now: its committed offsets copied to the target, its members there let read (${g.progress.state} now)`;
  }

  progress(): GroupProgress[] {
    const now = Date.now();
    return [...this.groups.values()].map((g) => ({ ...g.progress, pausedMs: paused(g) && g.emptySince !== null ? now - g.emptySince : null }));
  }

  /** Groups with members on the source, per linked topic they read. */
  readingOnSource(topic: string): string[] {
    return [...this.groups.values()].filter((g) => (g.progress.sourceMembers > 0 || g.progress.state === "rolling-back") && g.progress.state !== "handed-off" && this.readsTopic(g, topic)).map((g) => g.id);
  }

  private readsTopic(g: Group, topic: string): boolean {
    return g.topics.length === 0 || g.topics.includes(topic);
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      // Every group, in every state: status shows its members on both clusters.
      const watched = [...this.groups.values()];
      if (watched.length === 0) return;
      // Members as the coordinators list them: while klink parks joiners (see GroupFence), its own
      // member list lags behind.
      const ids = watched.map((g) => g.id);
      const [onSource, onTarget] = await Promise.all([this.sourceAdmin.describeConsumerGroups(ids), this.targetAdmin.describeConsumerGroups(ids)]);
      for (const g of watched) {
        const d = onSource.find((x) => x.groupId === g.id);
        const t = onTarget.find((x) => x.groupId === g.id);
        const others = (x: typeof d) => x?.members.filter((m) => m.memberId !== g.fence?.memberId) ?? [];
        const clients = (x: typeof d) => others(x).map(memberName);
        if (g.progress.state === "handed-off") {
          // klink guards the source (its member is not counted); the members read on the target.
          g.progress.sourceMembers = others(d).length;
          g.progress.sourceClients = clients(d);
          g.progress.targetMembers = others(t).length;
          g.progress.targetClients = clients(t);
          continue;
        }
        if (g.direction === "to-target") {
          if (d) this.observeSource(g, d);
          g.progress.targetMembers = others(t).length;
          g.progress.targetClients = clients(t);
        } else {
          // Moving back: the members klink holds are on the source; the ones it waits for are on the target.
          g.progress.sourceMembers = others(d).length;
          g.progress.sourceClients = clients(d);
          if (t) {
            g.progress.targetMembers = left(t) ? 0 : Math.max(1, t.members.length);
            g.progress.targetClients = t.members.map(memberName);
            this.observeLeaving(g, t);
          }
        }
        if (!g.fence || g.busy) continue;
        if (g.direction === "to-target" && (g.progress.state === "fenced" || g.progress.state === "rolled-back") && g.progress.sourceMembers === 0) {
          const decision = this.options.cutover.handOff({ group: g.id, sourceMembers: 0, targetMembers: g.progress.targetMembers, requested: g.requested });
          if (!decision.go) {
            g.progress.detail = `the source is empty; ${decision.reason}`;
            continue;
          }
        } else if (!(g.direction === "to-source" && g.progress.state === "rolling-back" && g.progress.targetMembers === 0)) {
          continue;
        }
        g.busy = true;
        void this.move(g)
          .catch((err) => {
            g.progress.detail = `${g.direction === "to-target" ? "handoff" : "rollback"} failed, retrying: ${(err as Error).message}`;
            this.options.log(`group ${g.id}: ${g.progress.detail}`);
          })
          .finally(() => (g.busy = false));
      }
    } catch (err) {
      // a cluster is briefly unreachable: look again at the next tick
      const line = `watching groups: ${(err as Error).message}`;
      if (line !== this.lastTickError) this.options.log(line);
      this.lastTickError = line;
    } finally {
      this.ticking = false;
    }
  }

  /**
   * Copies the group's offsets to the cluster where klink holds it and lets its members there
   * read: the handoff (to the target) or a rollback (to the source).
   */
  private async move(g: Group): Promise<void> {
    const o = this.options;
    const fence = g.fence!;
    const back = g.direction === "to-source";
    const from = back ? this.targetAdmin : this.sourceAdmin;
    const translate = back ? o.translateBack : o.translate;
    const committed = (await from.listConsumerGroupOffsets(g.id)).filter((c) => o.topics.includes(c.topic) && c.offset >= 0);
    const offsets = [];
    for (const c of committed) {
      const translated = await translate(c.topic, c.partition, c.offset);
      if (translated === null) {
        g.progress.detail = `waiting for the link to copy ${c.topic}[${c.partition}] up to offset ${c.offset}, where the group stopped on the ${back ? "target" : "source"}`;
        return;
      }
      offsets.push({ topic: c.topic, partition: c.partition, offset: translated });
    }
    // A member may have come back meanwhile: then this is not the time.
    const [again] = await from.describeConsumerGroups([g.id]);
    if (!left(again!)) return;
    await fence.commit(offsets);
    const state = back ? "rolled-back" : "handed-off";
    await o.store.write([
      { group: g.id, state, detail: `offsets of ${offsets.length} partitions copied to the ${back ? "source" : "target"}` },
      { put: stateKey.rollback(g.id), value: null },
    ]);
    await fence.release();
    const movedAt = Date.now();
    g.fence = null;
    g.progress.state = state;
    g.requested = false;
    g.progress.handedOffAt = new Date(movedAt).toISOString();
    const verb = back ? "moved back to the source" : "handed off";
    g.progress.detail = verb;
    if (!back) {
      await o.onHandedOff?.(g.id, g.topics);
      await this.guardSource(g);
    }
    // Back on the source: a member still starting on the target must read nothing there.
    if (back) await this.holdOnTarget(g, [...new Set([again!.partitionAssignor, ...COMMON_ASSIGNORS].filter(Boolean))]);
    // Measured once the group is guarded: reading the coordinator's record takes a moment.
    const since = g.progress.detail.startsWith(verb) ? g.progress.detail.slice(verb.length) : `; ${g.progress.detail}`;
    g.progress.detail = `${verb}${await this.pauseText(g, back, movedAt)}${since}`;
    o.log(`group ${g.id}: ${g.progress.detail} (${offsets.map((x) => `${x.topic}[${x.partition}]@${x.offset}`).join(" ")})`);
  }

  /**
   * How long the group's members read nothing, from when the coordinator of the cluster it left
   * saw it empty (its own record) to `movedAt`; sets lastPauseMs and emptiedAt.
   */
  private async pauseText(g: Group, back: boolean, movedAt: number): Promise<string> {
    const from = back ? "target" : "source";
    g.progress.lastPauseMs = null;
    g.progress.emptiedAt = null;
    if (g.membersSeenAt === null) return `; the group had no member on the ${from} when klink started${back ? " holding it there" : ""}`;
    try {
      const at = await emptiedAt(back ? this.options.target : this.options.source, back ? this.targetAdmin : this.sourceAdmin, g.id, g.membersSeenAt, movedAt);
      g.progress.emptiedAt = new Date(at).toISOString();
      g.progress.lastPauseMs = Math.max(0, movedAt - at);
      return ` ${g.progress.lastPauseMs} ms after the ${from}'s coordinator saw its last member leave`;
    } catch (err) {
      // e.g. no right to read __consumer_offsets: klink's own poll is the next best measure
      g.progress.lastPauseMs = movedAt - (g.emptySince ?? movedAt);
      return ` ${g.progress.lastPauseMs} ms after klink saw the ${from} without members (the coordinator's time is not known: ${(err as Error).message})`;
    }
  }

  /** Stops watching; fences stay in place (not left) so a restarted klink takes them back. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.offsetsTimer) clearInterval(this.offsetsTimer);
    for (const g of this.groups.values()) g.fence?.close();
    this.sourceAdmin?.close();
    this.targetAdmin?.close();
  }
}

/** A member as status shows it: members of one application often share client id and host, their member ids differ. */
function memberName(m: GroupMember): string {
  return `${m.clientId}@${m.host} #${m.memberId.slice(-8)}`;
}

/** klink holds the group where its members go, waiting for the cluster they leave to be empty (or for the go). */
function paused(g: Group): boolean {
  if (!g.fence) return false;
  return g.direction === "to-target" ? g.progress.state === "fenced" || g.progress.state === "rolled-back" : g.progress.state === "rolling-back";
}
