/**
 * `link.standby` (docs/workers.md, "Standby"): every `klink run` of the link joins its worker
 * group, and the group hands the link — one unit, for now — to one of them. The others wait and
 * take over when it leaves (SIGTERM: at once), dies (kill -9: after the session timeout) or loses
 * its lease (paused, cut off from the target). The state store's own fence (storage: kafka) stays
 * the second line: the new owner's start fences the old one's state writes.
 */
import { hostname } from "node:os";
import { groupSettings, type Cluster } from "../link/cluster.ts";
import { WorkerGroup, type WorkerGroupEvent } from "./worker-group.ts";
import { assignLink, LINK_UNIT } from "./link-assignment.ts";
import type { SpreadPartitions } from "./spread-partitions.ts";

/**
 * The read fences' session timeout under link.standby. A fence is a static member of the group;
 * when its klink is killed, the coordinator keeps it (and the members parked behind it) for this
 * long, and the next klink's fence takes its place. It must outlast the takeover: the worker
 * group's session (10 s), the state store's fence wait (5 s), the wait for what the old one held
 * (11 s) and the start; the 30 s used otherwise left 4 s to spare (test/link/handoff.test.ts).
 */
export const STANDBY_FENCE_SESSION_MS = 90_000;
/** The state key a clean stop writes: the next owner need not wait. */
export const RELEASED_KEY = "klink.released";

export interface LinkOwnership {
  /** Resolves with the reason once this process no longer owns the link. */
  readonly lost: Promise<string>;
  /** Lets go of the link and leaves the group, so that a standby takes over at once. */
  leave(): Promise<void>;
  /** Whether the lease still holds (checked before writes, once the data path asks). */
  mayWrite(): boolean;
  /** Resolves at the first round in which no other worker claims a partition (link.spread: the Link may start them all). */
  alone(): Promise<void>;
}

export function workerGroupId(linkName: string): string {
  return `klink-${linkName}-workers`;
}

/**
 * Joins the link's worker group and resolves once this process owns the link. `stopping` is
 * awaited when the link is taken from it in a rebalance, before the group hands it on.
 */
export function ownLink(o: {
  linkName: string;
  target: Cluster;
  status: string;
  stopping: () => Promise<void>;
  log: (line: string) => void;
  /** Resolves to abandon the wait (SIGTERM while standing by): the promise then rejects. */
  cancel: Promise<void>;
  /** link.spread: where the partitions the group gives this worker go. */
  spread?: SpreadPartitions | null;
}): Promise<LinkOwnership> {
  const groupId = workerGroupId(o.linkName);
  let resolveLost!: (reason: string) => void;
  const lost = new Promise<string>((r) => (resolveLost = r));
  return new Promise<LinkOwnership>((resolve, reject) => {
    let waitingSaid = false;
    let owned = false;
    let leaving = false;
    let resolveAlone!: () => void;
    const alone = new Promise<void>((r) => (resolveAlone = r));
    const spread = o.spread ?? null;
    const leave = () => ((leaving = true), group.leave());
    const parts = (keys: string[]) => keys.filter((k) => k !== LINK_UNIT);
    const group = WorkerGroup.start({
      settings: groupSettings(o.target),
      groupId,
      worker: { host: hostname(), pid: process.pid, status: o.status },
      partitions: () => [LINK_UNIT],
      assign: (members, generation) => assignLink(members.map((m) => ({ memberId: m.memberId, owned: m.metadata?.owned ?? [], ...m.metadata })), generation),
      // a worker that stops hands its partitions over cleanly first (the runner lets go through its Link)
      handOverOnLeave: () => spread !== null && !owned,
      ...(spread ? { metadata: () => spread.metadata() } : {}),
      onAssigned: (keys, _generation, clean) => {
        if (parts(keys).length) spread?.assigned(parts(keys), clean);
        if (!keys.includes(LINK_UNIT)) return;
        owned = true;
        resolve({ lost, leave, mayWrite: () => group.mayWrite(), alone: () => alone });
      },
      onRevoked: async (keys) => {
        const clean = parts(keys).length ? await spread?.revoked(parts(keys)) : [];
        if (!keys.includes(LINK_UNIT) || leaving) return clean; // leaving: this process lets go itself
        resolveLost(`the worker group ${groupId} gave the link to another klink`);
        await o.stopping();
        return clean;
      },
      onLost: (keys, reason) => {
        if (parts(keys).length) spread?.lost(parts(keys), reason);
        if (keys.includes(LINK_UNIT)) resolveLost(`worker group ${groupId}: ${reason}`);
      },
      onEvent: (e: WorkerGroupEvent) => {
        if (e.type === "joined" && owned && e.elsewhere === 0) resolveAlone();
        if (e.type === "joined" && !owned && !waitingSaid) {
          waitingSaid = true;
          o.log(`standby: another klink runs link ${o.linkName} (worker group ${groupId} on the target); this one takes over when it stops${spread ? ", and copies the partitions it is lent meanwhile" : ""}`);
        }
        if (e.type === "error") o.log(`worker group ${groupId}: ${e.error.message}`);
      },
    });
    spread?.joined(group);
    void o.cancel.then(async () => {
      if (owned) return;
      await leave();
      reject(new Error("stopped while standing by"));
    });
  });
}
