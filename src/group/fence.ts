/**
 * The read fence: klink holds a classic consumer group on the target as its leader and hands
 * every member, itself included, an empty assignment, so the group's consumers that already
 * moved to the target read nothing. When the group may read, klink commits the offsets they must
 * start from (as a member: generation + member id) and leaves; the rebalance that follows gives
 * the waiting members their partitions. See docs/read-fence.md.
 *
 * Leadership: the coordinator makes the first member it adds the leader and keeps it while it
 * rejoins every rebalance in time. So klink joins before any consumer, rejoins only when a
 * heartbeat answers REBALANCE_IN_PROGRESS (a JoinGroup from the leader of a Stable group would
 * itself start a rebalance), and answers SyncGroup at once. If a JoinGroup response ever names
 * another leader, or the coordinator no longer knows klink's member, the fence is lost: klink
 * leaves (so it holds no partitions a consumer leader gave it) and says so (state "lost", event).
 *
 * Parking (option parkMs): when members join, the coordinator starts a rebalance and answers
 * their JoinGroup only once every member has rejoined. klink, the leader, then waits up to
 * parkMs before it rejoins, heartbeating meanwhile (that keeps its session). The joiners wait
 * inside JoinGroup, reading nothing; when release() leaves during that time, the coordinator
 * answers them at once, instead of at their next heartbeat (3 s by default) after an ordinary
 * leave. klink rejoins when parkMs has passed since the last heartbeat that found the group
 * stable, well inside its own rebalance timeout (after which the coordinator would drop it).
 *
 * Timers: one heartbeat timer while held. `release()` and `close()` stop it and close every
 * connection; nothing keeps the process alive after them.
 */
import { GroupClient } from "./client.ts";
import type { Connection } from "./connection.ts";
import { decodeSubscription, EMPTY_ASSIGNMENT, encodeSubscription, type Subscription } from "./consumer-protocol.ts";
import { describeGroup } from "./describe.ts";
import { checkCoordinator, ConnectionError, Err, errorName, GroupProtocolError, isCoordinatorError } from "./errors.ts";
import { Heartbeat, JoinGroup, LeaveGroup, OffsetCommit, SyncGroup, type JoinGroupResponse } from "./messages.ts";
import { commitError, commitRequest, fetchOffsets, type CommittedOffset } from "./offsets.ts";
import type { GroupClientSettings } from "./settings.ts";

export interface GroupFenceOptions {
  settings: GroupClientSettings;
  groupId: string;
  /** The topics the group reads: klink's subscription names them (offsets of topics no member subscribes to can expire). */
  topics: string[];
  /**
   * Assignor names to offer, e.g. ["range", "cooperative-sticky"]. A member that offers none of
   * them is refused with INCONSISTENT_GROUP_PROTOCOL: offer every name the group's members use.
   */
  protocols: string[];
  /** Static membership: a klink restarted with the same id takes its place (and leadership) back. */
  groupInstanceId?: string | null;
  /** Default 30 s. */
  sessionTimeoutMs?: number;
  /** At most the members' max.poll.interval.ms. Default 60 s. */
  rebalanceTimeoutMs?: number;
  /** Default 2 s. */
  heartbeatIntervalMs?: number;
  /**
   * How long klink may stay out of a rebalance that members started, keeping them waiting in
   * JoinGroup so that release() wakes them at once (see "Parking" above). Keep it below the
   * members' max.poll.interval.ms (their JoinGroup request timeout). Default 0: rejoin at once.
   */
  parkMs?: number;
  onEvent?: (event: FenceEvent) => void;
}

export type FenceEvent =
  /** klink leads generation `generationId` and every member got an empty assignment. */
  | { type: "held"; generationId: number; members: FencedMember[] }
  /** A heartbeat (or commit) found the group rebalancing; klink rejoins. */
  | { type: "rebalancing"; reason: string }
  /** A heartbeat found the group rebalancing; klink waits (parkMs) before it rejoins. */
  | { type: "parked"; reason: string }
  /** The fence is gone: another member leads, or the coordinator dropped klink's member. */
  | { type: "lost"; error: Error }
  /** A heartbeat failed (coordinator unreachable, moving): klink keeps trying. */
  | { type: "error"; error: Error };

export type FenceState = "joining" | "held" | "rebalancing" | "released" | "lost" | "closed";

export interface FencedMember {
  memberId: string;
  groupInstanceId: string | null;
  /** From DescribeGroups, after each rebalance (see refreshMembers). */
  clientId?: string;
  clientHost?: string;
  /** The member's subscription for the agreed protocol (null: not the consumer protocol's layout). */
  subscription: Subscription | null;
  /** True for klink's own member. */
  klink: boolean;
}

/** The JoinGroup response named another member as the group's leader. */
export class NotLeaderError extends Error {
  override name = "NotLeaderError";
  constructor(
    readonly groupId: string,
    readonly leaderId: string,
    readonly memberId: string,
  ) {
    super(`group ${groupId}: klink (member ${memberId}) is not the group's leader; ${leaderId} is. ` +
      "A consumer joined before klink (or during its KIP-394 member-id round trip): stop the group's consumers on the target, wait for the group to be empty, and fence it again.");
  }
}

/** Errors that mean klink is no longer a member of the group. */
const GONE = new Set<number>([Err.UNKNOWN_MEMBER_ID, Err.FENCED_INSTANCE_ID]);

export class GroupFence {
  readonly groupId: string;
  private readonly client: GroupClient;
  private readonly options: { protocols: string[]; groupInstanceId: string | null; sessionTimeoutMs: number; rebalanceTimeoutMs: number; heartbeatIntervalMs: number; parkMs: number };
  private readonly subscription: Buffer;
  private memberIdValue = "";
  private generation = -1;
  private protocolName: string | null = null;
  private memberList: FencedMember[] = [];
  private stateValue: FenceState = "joining";
  private lostError: Error | null = null;
  private heartbeatTimer: Timer | null = null;
  /** When a heartbeat last found the group stable (a rebalance cannot have started before). */
  private stableAt = 0;
  /** Members are waiting in JoinGroup for klink to rejoin. */
  private parkedValue = false;
  /** Join/sync, heartbeat, commit and leave run one at a time. */
  private lock: Promise<unknown> = Promise.resolve();

  private constructor(private readonly init: GroupFenceOptions) {
    this.groupId = init.groupId;
    this.options = {
      protocols: init.protocols,
      groupInstanceId: init.groupInstanceId ?? null,
      sessionTimeoutMs: init.sessionTimeoutMs ?? 30_000,
      rebalanceTimeoutMs: init.rebalanceTimeoutMs ?? 60_000,
      heartbeatIntervalMs: init.heartbeatIntervalMs ?? 2_000,
      parkMs: init.parkMs ?? 0,
    };
    if (!init.protocols.length) throw new Error(`group ${init.groupId}: give at least one assignor (protocol) name to offer`);
    if (this.options.heartbeatIntervalMs * 3 > this.options.sessionTimeoutMs) {
      throw new Error(`group ${init.groupId}: heartbeatIntervalMs (${this.options.heartbeatIntervalMs}) must be at most a third of sessionTimeoutMs (${this.options.sessionTimeoutMs})`);
    }
    if (this.options.parkMs > 0 && this.options.parkMs + 2 * this.options.heartbeatIntervalMs > this.options.rebalanceTimeoutMs) {
      throw new Error(`group ${init.groupId}: parkMs (${this.options.parkMs}) plus two heartbeat intervals must stay below rebalanceTimeoutMs (${this.options.rebalanceTimeoutMs})`);
    }
    this.client = new GroupClient(init.settings);
    this.subscription = encodeSubscription(init.topics);
  }

  /**
   * Joins the group, checks that klink leads it, gives every member an empty assignment and starts
   * heartbeating. Throws NotLeaderError (after leaving) when another member leads the group.
   */
  static async hold(options: GroupFenceOptions): Promise<GroupFence> {
    const fence = new GroupFence(options);
    try {
      await fence.exclusive(() => fence.joinAndSync("klink read fence: taking the group"));
    } catch (err) {
      if (err instanceof NotLeaderError) await fence.leave("klink is not the group's leader").catch(() => undefined);
      fence.shutdown();
      throw err;
    }
    fence.scheduleHeartbeat();
    return fence;
  }

  get state(): FenceState {
    return this.stateValue;
  }

  get memberId(): string {
    return this.memberIdValue;
  }

  get generationId(): number {
    return this.generation;
  }

  /** Members are waiting in JoinGroup for klink to rejoin (parking): they read nothing. */
  get parked(): boolean {
    return this.parkedValue;
  }

  /** The assignor the members agreed on in the current generation. */
  get protocol(): string | null {
    return this.protocolName;
  }

  /** Every member of the current generation, klink included. */
  get members(): FencedMember[] {
    return this.memberList;
  }

  /** Why the fence was lost (state "lost"). */
  get lostReason(): Error | null {
    return this.lostError;
  }

  /** Adds client id and host to `members` (DescribeGroups) and returns them. */
  async refreshMembers(): Promise<FencedMember[]> {
    const generation = this.generation;
    const described = await describeGroup(this.client, this.groupId);
    if (generation !== this.generation) return this.memberList;
    const byId = new Map(described.members.map((m) => [m.memberId, m]));
    this.memberList = this.memberList.map((m) => {
      const d = byId.get(m.memberId);
      return d ? { ...m, clientId: d.clientId, clientHost: d.clientHost } : m;
    });
    return this.memberList;
  }

  /**
   * Commits offsets as the group's member. A commit that finds the group rebalancing (or a newer
   * generation) rejoins first and commits again.
   */
  async commit(offsets: CommittedOffset[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const done = await this.exclusive(async () => {
        this.assertHeld("commit offsets");
        const member = { generationId: this.generation, memberId: this.memberIdValue, groupInstanceId: this.options.groupInstanceId };
        const code = await this.client.coordinated(this.groupId, async (conn) => {
          const c = commitError(this.groupId, await conn.request(OffsetCommit, commitRequest(this.groupId, member, offsets)));
          if (isCoordinatorError(c)) throw new GroupProtocolError(c, "OffsetCommit", `group ${this.groupId}`);
          return c;
        });
        if (code === Err.NONE) return true;
        if (GONE.has(code)) throw new GroupProtocolError(code, "OffsetCommit", `group ${this.groupId}: klink is no longer a member`);
        this.emit({ type: "rebalancing", reason: `OffsetCommit answered ${errorName(code)}` });
        await this.joinAndSync("klink read fence: rejoining to commit offsets");
        return false;
      }).catch((err) => this.failed(err));
      if (done) return;
      if (attempt >= 5) throw new Error(`group ${this.groupId}: offsets not committed after ${attempt} rebalances in a row`);
    }
  }

  /** The group's committed offsets (OffsetFetch). */
  committed(topics: Array<{ topic: string; partitions: number[] }> | null = null): Promise<CommittedOffset[]> {
    return fetchOffsets(this.client, this.groupId, topics);
  }

  /**
   * Leaves the group: the rebalance that follows gives the waiting members their partitions,
   * starting at the committed offsets. Closes the fence.
   */
  async release(): Promise<void> {
    this.stopHeartbeat();
    try {
      await this.exclusive(async () => {
        this.assertHeld("release the group");
        await this.leave("klink read fence: handing the group over");
        this.stateValue = "released";
      });
    } finally {
      this.shutdown();
    }
  }

  /**
   * Stops heartbeating and closes the connections without leaving: the group stays fenced until
   * its session times out, or until a klink with the same group.instance.id rejoins.
   */
  close(): void {
    this.shutdown();
  }

  // --- membership

  /** Join, check leadership, sync with empty assignments; again while the group keeps rebalancing. */
  private async joinAndSync(reason: string): Promise<void> {
    for (let round = 0; ; round++) {
      if (this.stateValue !== "joining") this.stateValue = "rebalancing";
      this.parkedValue = false;
      const join = await this.joinGroup(round === 0 ? reason : `${reason} (round ${round + 1})`);
      this.generation = join.generationId;
      this.protocolName = join.protocolName;
      if (join.leader !== join.memberId) throw new NotLeaderError(this.groupId, join.leader, join.memberId);
      this.memberList = join.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        subscription: safeDecode(m.metadata),
        klink: m.memberId === join.memberId,
      }));
      const sync = await this.client.coordinated(this.groupId, async (conn) =>
        checkCoordinator(
          await conn.request(SyncGroup, {
            groupId: this.groupId,
            generationId: join.generationId,
            memberId: join.memberId,
            groupInstanceId: this.options.groupInstanceId,
            protocolType: "consumer",
            protocolName: join.protocolName,
            // with skipAssignment (KIP-814, a static leader rejoining a Stable group) the coordinator keeps the current, empty, assignments
            assignments: join.skipAssignment ? [] : join.members.map((m) => ({ memberId: m.memberId, assignment: EMPTY_ASSIGNMENT })),
          }),
          "SyncGroup",
          this.groupId,
        ),
      );
      if (sync.errorCode === Err.REBALANCE_IN_PROGRESS || sync.errorCode === Err.ILLEGAL_GENERATION) continue;
      if (sync.errorCode) throw new GroupProtocolError(sync.errorCode, "SyncGroup", `group ${this.groupId}`);
      this.stateValue = "held";
      this.stableAt = Date.now();
      this.emit({ type: "held", generationId: this.generation, members: this.memberList });
      this.refreshMembers().catch(() => undefined); // client ids and hosts, for operators: best effort
      return;
    }
  }

  private async joinGroup(reason: string): Promise<JoinGroupResponse> {
    const { sessionTimeoutMs, rebalanceTimeoutMs } = this.options;
    // the coordinator answers once every member rejoined or the group's largest rebalance timeout
    // passed: that of the members, 300 s for Java consumers (max.poll.interval.ms) unless set
    const requestTimeout = Math.max(rebalanceTimeoutMs, 300_000) + 5_000;
    for (let attempt = 0; ; attempt++) {
      const r = await this.client.coordinated(
        this.groupId,
        async (conn: Connection) =>
          checkCoordinator(
            await conn.request(
              JoinGroup,
              {
                groupId: this.groupId,
                sessionTimeoutMs,
                rebalanceTimeoutMs,
                memberId: this.memberIdValue,
                groupInstanceId: this.options.groupInstanceId,
                protocolType: "consumer",
                protocols: this.options.protocols.map((name) => ({ name, metadata: this.subscription })),
                reason,
              },
              requestTimeout,
            ),
            "JoinGroup",
            this.groupId,
          ),
        2 * requestTimeout,
      );
      switch (r.errorCode) {
        case Err.NONE:
          this.memberIdValue = r.memberId;
          return r;
        case Err.MEMBER_ID_REQUIRED: // KIP-394: join again with the member id the coordinator gave
          this.memberIdValue = r.memberId;
          continue;
        case Err.UNKNOWN_MEMBER_ID:
          if (this.stateValue !== "joining") throw new GroupProtocolError(r.errorCode, "JoinGroup", `group ${this.groupId}: the coordinator dropped klink's member ${this.memberIdValue}`);
          this.memberIdValue = "";
          continue;
        case Err.REBALANCE_IN_PROGRESS:
          if (attempt < 10) {
            await this.client.sleep(500);
            continue;
          }
          break;
        case Err.INCONSISTENT_GROUP_PROTOCOL:
          throw new GroupProtocolError(r.errorCode, "JoinGroup", `group ${this.groupId}`,
            `its members use assignors that share no name with the ones klink offered (${this.options.protocols.join(", ")}): offer the group's assignor names`);
      }
      throw new GroupProtocolError(r.errorCode, "JoinGroup", `group ${this.groupId}`);
    }
  }

  private async leave(reason: string): Promise<void> {
    if (!this.memberIdValue) return;
    const r = await this.client.coordinated(this.groupId, async (conn) =>
      checkCoordinator(
        await conn.request(LeaveGroup, {
          groupId: this.groupId,
          members: [{ memberId: this.memberIdValue, groupInstanceId: this.options.groupInstanceId, reason }],
        }),
        "LeaveGroup",
        this.groupId,
      ),
    );
    // UNKNOWN_MEMBER_ID: the coordinator already removed klink's member, which is what leaving wants
    const code = r.errorCode || r.members.find((m) => m.errorCode && m.errorCode !== Err.UNKNOWN_MEMBER_ID)?.errorCode || 0;
    if (code && code !== Err.UNKNOWN_MEMBER_ID) throw new GroupProtocolError(code, "LeaveGroup", `group ${this.groupId}`);
  }

  // --- heartbeats

  private scheduleHeartbeat(): void {
    if (this.stateValue !== "held" && this.stateValue !== "rebalancing") return;
    this.heartbeatTimer = setTimeout(() => void this.heartbeat(), this.options.heartbeatIntervalMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private async heartbeat(): Promise<void> {
    this.heartbeatTimer = null;
    try {
      await this.exclusive(async () => {
        if (this.stateValue === "rebalancing") {
          // the last rejoin failed (coordinator unreachable for long): try again
          await this.joinAndSync("klink read fence: rejoining the rebalance");
          return;
        }
        if (this.stateValue !== "held") return;
        const r = await this.client.coordinated(
          this.groupId,
          async (conn) =>
            checkCoordinator(
              await conn.request(Heartbeat, { groupId: this.groupId, generationId: this.generation, memberId: this.memberIdValue, groupInstanceId: this.options.groupInstanceId }),
              "Heartbeat",
              this.groupId,
            ),
          this.options.sessionTimeoutMs,
        );
        if (r.errorCode === Err.NONE) {
          this.stableAt = Date.now();
          return;
        }
        if (r.errorCode === Err.REBALANCE_IN_PROGRESS && Date.now() - this.stableAt < this.options.parkMs) {
          // park: the joiners wait in JoinGroup; this heartbeat kept klink's session
          if (!this.parkedValue) this.emit({ type: "parked", reason: "members joined: they wait in JoinGroup until klink rejoins or releases the group" });
          this.parkedValue = true;
          return;
        }
        if (r.errorCode === Err.REBALANCE_IN_PROGRESS || r.errorCode === Err.ILLEGAL_GENERATION) {
          this.emit({ type: "rebalancing", reason: `Heartbeat answered ${errorName(r.errorCode)}` });
          await this.joinAndSync("klink read fence: rejoining the rebalance");
          return;
        }
        throw new GroupProtocolError(r.errorCode, "Heartbeat", `group ${this.groupId}`);
      });
    } catch (err) {
      await this.failed(err).catch(() => undefined);
    }
    this.scheduleHeartbeat();
  }

  // --- state

  /** Sorts an error out: the fence lost (leave, report) or a passing failure (report). Rethrows it. */
  private async failed(err: unknown): Promise<never> {
    const e = err instanceof Error ? err : new Error(String(err));
    const active = this.stateValue === "held" || this.stateValue === "rebalancing";
    if (active && (e instanceof NotLeaderError || (e instanceof GroupProtocolError && (GONE.has(e.code) || e.api === "JoinGroup" || e.api === "SyncGroup")))) {
      this.stateValue = "lost";
      this.lostError = e;
      this.stopHeartbeat();
      // a follower holds whatever the new leader assigned it: leave, so the group can move on
      if (e instanceof NotLeaderError) await this.leave("klink lost the group's leadership").catch(() => undefined);
      this.client.close();
      this.emit({ type: "lost", error: e });
    } else if (active && !(e instanceof ConnectionError && this.client.isClosed)) {
      this.emit({ type: "error", error: e });
    }
    throw e;
  }

  private assertHeld(what: string): void {
    if (this.stateValue === "held" || this.stateValue === "rebalancing") return;
    throw new Error(`group ${this.groupId}: cannot ${what}: the fence is ${this.stateValue}${this.lostError ? ` (${this.lostError.message})` : ""}`);
  }

  /** Ends the fence for good: released and lost stay so, anything else becomes closed. */
  private shutdown(): void {
    if (this.stateValue !== "released" && this.stateValue !== "lost") this.stateValue = "closed";
    this.stopHeartbeat();
    this.client.close();
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private emit(event: FenceEvent): void {
    try {
      this.init.onEvent?.(event);
    } catch {
      // a listener's failure is not the fence's
    }
  }
}

function safeDecode(metadata: Buffer): Subscription | null {
  try {
    return decodeSubscription(metadata);
  } catch {
    return null;
  }
}
