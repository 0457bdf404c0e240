/**
 * One klink worker's membership in its link's worker group (docs/workers.md): a classic Kafka
 * group of protocol type "klink-worker" whose leader spreads the link's partitions over the
 * members (assignment.ts), as Kafka Connect spreads its tasks.
 *
 * Ownership is a lease. A worker owns a partition from the round that assigns it until it lets go
 * (onRevoked resolved) or until its lease ends, whichever comes first. The lease runs until
 * `sent + sessionTimeout − margin`, where `sent` is when the worker sent the last request whose
 * answer proved it was still a member (Heartbeat answered NONE or REBALANCE_IN_PROGRESS, JoinGroup,
 * SyncGroup): the coordinator received that request later than it was sent, and keeps a member at
 * least a session timeout after that, so no other worker can be given the partition before the
 * lease has ended. During a rebalance the coordinator also drops a member that has not rejoined
 * within the rebalance timeout, so a heartbeat that finds the group rebalancing extends the lease
 * no further than `sent + rebalanceTimeout − margin` of the last answer that found it stable. Heartbeats go on their own connection, so they keep proving membership while a
 * JoinGroup waits for slow members. When the lease ends the worker drops everything (onLost) and
 * rejoins owning nothing. The data path must check `mayWrite()` before every write: a timer may
 * fire late (a paused process), the clock check does not.
 */
import { ConnectionError, Err, errorName, GroupClient, GroupProtocolError } from "../group/index.ts";
import type { JoinGroupResponse } from "../group/messages.ts";
import { heartbeat, joinGroup, leaveGroup, syncGroup } from "./worker-requests.ts";
import type { GroupClientSettings } from "../group/settings.ts";
import { Lease } from "./lease.ts";
import { assignPartitions, comparePartitions, type AssignmentRound, type PartitionKey } from "./assignment.ts";
import { decodeAssignment, decodeMetadata, encodeJson, type WorkerInfo, type WorkerMetadata } from "./member-metadata.ts";
import type { LinkRound } from "./link-assignment.ts";

export interface WorkerGroupOptions {
  settings: GroupClientSettings;
  groupId: string;
  worker: WorkerInfo;
  /** The link's partitions as this worker sees them; the leader's view is the one assigned. */
  partitions: () => PartitionKey[];
  /** Instead of spreading `partitions()`: the leader's round from every member's metadata (link-assignment.ts). */
  assign?: (members: Array<{ memberId: string; metadata: WorkerMetadata | null }>, generation: number) => LinkRound;
  /** More for this worker's JoinGroup metadata (link.spread: the runner's units and kept partitions, what it returned). */
  metadata?: () => Pick<WorkerMetadata, "units" | "kept" | "returned">;
  /** Asked at leave(): let go of everything and say so in one more round before leaving, so that the next owners need not wait. */
  handOverOnLeave?: () => boolean;
  sessionTimeoutMs?: number;
  /** How long the coordinator waits for every member to rejoin (and so for a revocation). */
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** This worker now owns these partitions (it may write them while `mayWrite()`); `clean`: those their last owner let go of cleanly. */
  onAssigned: (partitions: PartitionKey[], generation: number, clean: PartitionKey[]) => void;
  /**
   * Stop these partitions; resolve once nothing more of them can be written (acknowledged or never
   * sent), with those of them whose every write was answered (let go of cleanly).
   */
  onRevoked: (partitions: PartitionKey[]) => Promise<PartitionKey[] | void>;
  /** The lease ended or the coordinator dropped this worker: these partitions are no longer its own. */
  onLost: (partitions: PartitionKey[], reason: string) => void;
  onEvent?: (event: WorkerGroupEvent) => void;
}

export type WorkerGroupEvent =
  | { type: "joined"; generation: number; memberId: string; leader: boolean; members: number; owned: number; moving: number; elsewhere: number }
  | { type: "assigned"; generation: number; partitions: PartitionKey[] }
  | { type: "revoked"; partitions: PartitionKey[] }
  | { type: "lost"; partitions: PartitionKey[]; reason: string; leaseEndedAt: number }
  | { type: "error"; error: Error };

/** Answers that mean the coordinator no longer knows this worker's member id. */
const GONE = new Set<number>([Err.UNKNOWN_MEMBER_ID, Err.FENCED_INSTANCE_ID]);

export class WorkerGroup {
  readonly groupId: string;
  private readonly sessionTimeoutMs: number;
  private readonly rebalanceTimeoutMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly leaseMarginMs: number;
  /** JoinGroup and SyncGroup wait long: heartbeats have their own client (connection). */
  private readonly joinClient: GroupClient;
  private readonly heartbeatClient: GroupClient;
  private memberIdValue = "";
  private generation = -1;
  private readonly ownedSet = new Set<PartitionKey>();
  private readonly lease: Lease;
  private joining = false;
  private rejoinWanted = true;
  private wakeJoinLoop: (() => void) | null = null;
  private stopped = false;
  private loops: Promise<void>[] = [];
  /** What this worker let go of cleanly, and in the round of which generation (its metadata says so). */
  private released: { generation: number; partitions: PartitionKey[] } | null = null;
  private leaving = false;
  /** Resolved by the next round this worker joined saying it is leaving. */
  private leavingRound: (() => void) | null = null;

  private constructor(private readonly options: WorkerGroupOptions) {
    this.groupId = options.groupId;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 10_000;
    this.rebalanceTimeoutMs = options.rebalanceTimeoutMs ?? 30_000;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 2_000;
    this.leaseMarginMs = Math.max(1_000, this.sessionTimeoutMs / 5);
    if (this.heartbeatIntervalMs * 3 > this.sessionTimeoutMs - this.leaseMarginMs) {
      throw new Error(`worker group ${this.groupId}: heartbeatIntervalMs (${this.heartbeatIntervalMs}) must fit three times in the lease (sessionTimeoutMs ${this.sessionTimeoutMs} less ${this.leaseMarginMs} ms)`);
    }
    this.lease = new Lease({ sessionTimeoutMs: this.sessionTimeoutMs, rebalanceTimeoutMs: this.rebalanceTimeoutMs, marginMs: this.leaseMarginMs, onEnd: () => this.leaseEnded() });
    this.joinClient = new GroupClient(options.settings);
    this.heartbeatClient = new GroupClient(options.settings);
  }

  /** Joins the group and keeps the membership in the background until `leave()` or `close()`. */
  static start(options: WorkerGroupOptions): WorkerGroup {
    const group = new WorkerGroup(options);
    group.loops = [group.joinLoop(), group.heartbeatLoop()];
    return group;
  }

  get memberId(): string {
    return this.memberIdValue;
  }

  get generationId(): number {
    return this.generation;
  }

  /** What this worker owns now, sorted. */
  get owned(): PartitionKey[] {
    return [...this.ownedSet].sort(comparePartitions);
  }

  /** Whether the lease still holds: the data path asks before every write. */
  mayWrite(): boolean {
    return !this.stopped && this.lease.holds();
  }

  /** When the lease ends (epoch ms). */
  get leaseEndsAt(): number {
    return this.lease.endsAt;
  }

  /**
   * This worker owns `keys` already (the runner of a spread link claims the partitions its Link
   * started): the next round knows it, and moves them cooperatively if they must move.
   */
  claim(keys: PartitionKey[]): void {
    for (const k of keys) this.ownedSet.add(k);
    this.requestRejoin();
  }

  /** What this worker says in its metadata changed: join again so that the leader sees it. */
  rejoin(): void {
    this.requestRejoin();
  }

  /** Lets go of every partition (onRevoked), leaves the group at once (others take over now) and stops. */
  async leave(): Promise<void> {
    if (this.stopped || this.leaving) return;
    const mine = this.owned;
    if (mine.length && this.memberIdValue && this.options.handOverOnLeave?.()) return this.handOverAndLeave(mine);
    this.stopped = true;
    this.wakeJoinLoop?.();
    if (mine.length) {
      await this.options.onRevoked(mine);
      this.ownedSet.clear();
      this.emit({ type: "revoked", partitions: mine });
    }
    if (this.memberIdValue) {
      // on the heartbeats' connection: a JoinGroup waiting on the other would hold it back
      await leaveGroup(this.heartbeatClient, this.groupId, this.memberIdValue, "klink worker stopping")
        .catch(() => undefined); // the coordinator then drops it after the session timeout
    }
    this.shutdown();
    await Promise.allSettled(this.loops);
  }

  /**
   * Lets go of everything, then joins one more round saying so (`released`) and that it leaves
   * (`leaving`: the leader gives it nothing), so that the leader hands its partitions on marked
   * clean; then leaves. If that round does not come in time, it leaves all the same (the next
   * owners then wait, as after a crash).
   */
  private async handOverAndLeave(mine: PartitionKey[]): Promise<void> {
    this.leaving = true;
    const clean = (await this.options.onRevoked(mine)) ?? [];
    for (const p of mine) this.ownedSet.delete(p);
    this.emit({ type: "revoked", partitions: mine });
    this.released = { generation: this.generation, partitions: clean };
    const roundDone = new Promise<void>((r) => (this.leavingRound = r));
    this.requestRejoin();
    await Promise.race([roundDone, Bun.sleep(this.rebalanceTimeoutMs)]);
    this.leaving = false;
    await this.leave();
  }

  /** Stops without leaving (the coordinator drops the worker after its session timeout). */
  close(): void {
    this.stopped = true;
    this.wakeJoinLoop?.();
    this.shutdown();
  }

  // --- joining

  private async joinLoop(): Promise<void> {
    while (!this.stopped) {
      if (!this.rejoinWanted) {
        await new Promise<void>((resolve) => (this.wakeJoinLoop = resolve));
        this.wakeJoinLoop = null;
        continue;
      }
      this.rejoinWanted = false;
      this.joining = true;
      try {
        await this.joinAndSync();
      } catch (err) {
        if (this.stopped) break;
        const e = err instanceof Error ? err : new Error(String(err));
        if (e instanceof GroupProtocolError && GONE.has(e.code)) this.dropMembership(`the coordinator no longer knows this worker (${e.codeName})`);
        else this.emit({ type: "error", error: e });
        this.rejoinWanted = true;
        await this.joinClient.sleep(1_000).catch(() => undefined);
      } finally {
        this.joining = false;
      }
    }
  }

  private requestRejoin(): void {
    this.rejoinWanted = true;
    this.wakeJoinLoop?.();
  }

  private async joinAndSync(): Promise<void> {
    const joinSent = performance.now();
    const saidLeaving = this.leaving;
    const join = await this.joinWithRetries();
    this.lease.renew(joinSent, true);
    this.generation = join.generationId;
    const leader = join.leader === join.memberId;
    let moving = 0;
    let assignments: Array<{ memberId: string; assignment: Uint8Array }> = [];
    if (leader) {
      const members = join.members.map((m) => ({ memberId: m.memberId, metadata: decodeMetadata(m.metadata) }));
      const round: AssignmentRound & { elsewhere?: Map<string, number>; clean?: Map<string, PartitionKey[]> } = this.options.assign?.(members, join.generationId)
        ?? assignPartitions(members.map((m) => ({ memberId: m.memberId, owned: m.metadata?.owned ?? [] })), this.options.partitions());
      moving = round.moving.length;
      const { elsewhere, clean } = round;
      assignments = join.members.map((m) => ({
        memberId: m.memberId,
        assignment: encodeJson({
          version: 1, partitions: round.assignments.get(m.memberId) ?? [], moving,
          ...(elsewhere ? { elsewhere: elsewhere.get(m.memberId) ?? 0 } : {}), ...(clean?.get(m.memberId)?.length ? { clean: clean.get(m.memberId) } : {}),
        }),
      }));
    }
    const syncSent = performance.now();
    const sync = await syncGroup(this.joinClient, { groupId: this.groupId, generationId: join.generationId, memberId: join.memberId }, this.rebalanceTimeoutMs, assignments);
    if (sync.errorCode === Err.REBALANCE_IN_PROGRESS || sync.errorCode === Err.ILLEGAL_GENERATION) {
      this.requestRejoin();
      return;
    }
    if (sync.errorCode) throw new GroupProtocolError(sync.errorCode, "SyncGroup", `worker group ${this.groupId}`);
    this.lease.renew(syncSent, true);
    const answer = decodeAssignment(sync.assignment);
    const assigned = new Set(answer.partitions);
    const revoked = this.owned.filter((p) => !assigned.has(p));
    if (revoked.length) {
      const clean = (await this.options.onRevoked(revoked)) ?? [];
      this.released = { generation: join.generationId, partitions: clean };
      for (const p of revoked) this.ownedSet.delete(p);
      this.emit({ type: "revoked", partitions: revoked });
      this.requestRejoin(); // the round after gives them to their new owners
    }
    if (this.leaving && this.released) {
      // a round that began before this worker let go gave it what it released again: no one else
      // had them in this generation, so the release holds for it (the next round hands them on clean)
      const again = this.released.partitions.filter((p) => assigned.has(p));
      if (again.length) this.released = { generation: join.generationId, partitions: again };
    }
    const added = [...assigned].filter((p) => !this.ownedSet.has(p)).sort(comparePartitions);
    if (added.length && this.mayWrite() && !this.leaving) {
      for (const p of added) this.ownedSet.add(p);
      this.emit({ type: "assigned", generation: join.generationId, partitions: added });
      const clean = new Set(answer.clean ?? []);
      this.options.onAssigned(added, join.generationId, added.filter((p) => clean.has(p)));
    } else if (added.length && !this.leaving) {
      this.requestRejoin(); // the lease ended during the round: take nothing, ask again
    }
    this.emit({ type: "joined", generation: join.generationId, memberId: join.memberId, leader, members: join.members.length, owned: this.ownedSet.size, moving, elsewhere: answer.elsewhere ?? 0 });
    if (saidLeaving) this.leavingRound?.();
  }

  /** JoinGroup until the coordinator answers with a generation: member-id round trips (KIP-394) and short waits included. */
  private async joinWithRetries(): Promise<JoinGroupResponse> {
    for (let attempt = 0; ; attempt++) {
      const said = { ...(this.released ? { released: this.released } : {}), ...(this.leaving ? { leaving: true } : {}) };
      const metadata = encodeJson({ version: 1, worker: this.options.worker, owned: this.owned, ...this.options.metadata?.(), ...said });
      const r = await joinGroup(this.joinClient, {
        groupId: this.groupId, memberId: this.memberIdValue, sessionTimeoutMs: this.sessionTimeoutMs, rebalanceTimeoutMs: this.rebalanceTimeoutMs, metadata,
        reason: this.ownedSet.size ? "klink worker rejoining" : "klink worker joining",
      });
      if (r.errorCode === Err.NONE) {
        this.memberIdValue = r.memberId;
        return r;
      }
      if (r.errorCode === Err.MEMBER_ID_REQUIRED) {
        this.memberIdValue = r.memberId; // KIP-394: join again with the id the coordinator gave
        continue;
      }
      if (GONE.has(r.errorCode)) {
        this.dropMembership(`JoinGroup answered ${errorName(r.errorCode)}`, false);
        continue;
      }
      if (r.errorCode === Err.REBALANCE_IN_PROGRESS && attempt < 10) {
        await this.joinClient.sleep(500);
        continue;
      }
      if (r.errorCode === Err.INCONSISTENT_GROUP_PROTOCOL) {
        throw new GroupProtocolError(r.errorCode, "JoinGroup", `worker group ${this.groupId}`, `another kind of client (not a klink worker) uses the group id ${this.groupId}`);
      }
      throw new GroupProtocolError(r.errorCode, "JoinGroup", `worker group ${this.groupId}`);
    }
  }

  // --- heartbeats and the lease

  private async heartbeatLoop(): Promise<void> {
    while (!this.stopped) {
      await this.heartbeatClient.sleep(this.heartbeatIntervalMs).catch(() => undefined);
      if (this.stopped || !this.memberIdValue || this.generation < 0) continue;
      const [memberId, generationId, sent] = [this.memberIdValue, this.generation, performance.now()];
      try {
        const r = await heartbeat(this.heartbeatClient, { groupId: this.groupId, generationId, memberId }, this.sessionTimeoutMs);
        if (memberId !== this.memberIdValue || this.stopped) continue;
        if (r.errorCode === Err.NONE) this.lease.renew(sent, true);
        else if (r.errorCode === Err.REBALANCE_IN_PROGRESS) {
          this.lease.renew(sent, false); // still a member: the coordinator checked id and generation first
          if (!this.joining) this.requestRejoin();
        } else if (GONE.has(r.errorCode)) {
          if (!this.joining) this.dropMembership(`Heartbeat answered ${errorName(r.errorCode)}`);
        } else if (r.errorCode === Err.ILLEGAL_GENERATION) {
          if (!this.joining && generationId === this.generation) this.requestRejoin();
        } else {
          this.emit({ type: "error", error: new GroupProtocolError(r.errorCode, "Heartbeat", `worker group ${this.groupId}`) });
        }
      } catch (err) {
        if (!this.stopped && !(err instanceof ConnectionError && this.heartbeatClient.isClosed)) this.emit({ type: "error", error: err as Error });
      }
    }
  }

  private leaseEnded(): void {
    if (this.stopped) return; // leaving: onRevoked is letting go already
    if (this.ownedSet.size) this.loseAll("no answer from the group coordinator proved this worker's membership in time (or a rebalance outlasted the rebalance timeout): its lease ended");
    this.requestRejoin();
  }

  /** The coordinator dropped this worker: it owns nothing, and joins again as a new member. */
  private dropMembership(reason: string, rejoin = true): void {
    this.loseAll(reason);
    this.memberIdValue = "";
    this.generation = -1;
    if (rejoin) this.requestRejoin();
  }

  private loseAll(reason: string): void {
    const lost = this.owned;
    this.ownedSet.clear();
    if (!lost.length) return;
    this.emit({ type: "lost", partitions: lost, reason, leaseEndedAt: Math.min(Date.now(), this.leaseEndsAt) });
    this.options.onLost(lost, reason);
  }

  private shutdown(): void {
    this.lease.stop();
    this.joinClient.close();
    this.heartbeatClient.close();
  }

  private emit(event: WorkerGroupEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // a listener's failure is not the group's
    }
  }
}
