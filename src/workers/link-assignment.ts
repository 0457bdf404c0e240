/**
 * What the worker group's leader hands out for one link (docs/workers.md): the unit `link/0` (the
 * state, the lifecycle, the commands, the exact lane) and, under link.spread, the link's
 * partitions. The worker that owns `link/0` (the link's runner) says in its JoinGroup metadata
 * which partitions the link has (`units`) and which must stay with it (`kept`: translate mode,
 * stopped, a topic past mirroring or one a lifecycle step waits for); a worker that cannot copy a
 * partition any more says so (`returned`) and it goes back to the runner. The rest is spread by
 * assignPartitions: balanced, sticky, cooperative.
 *
 * A worker that let go of partitions cleanly says so (`released`, with the generation of the round
 * that took them); given to another worker in the very next round, they are marked `clean`: no
 * record of the last owner can still be on its way, and the new owner writes at once. A worker
 * about to leave (`leaving`) is given nothing.
 *
 * Without a runner (the last one stopped or died) there is one unit only, `link/0`: every
 * partition a worker still claims is revoked, so the next runner starts its Link only once no one
 * else copies anything (`elsewhere` is 0), and then offers them again.
 */
import { assignPartitions, comparePartitions, type AssignmentRound, type PartitionKey } from "./assignment.ts";

/** The unit that carries the link itself. */
export const LINK_UNIT = "link/0";

export interface LinkClaim {
  memberId: string;
  owned: PartitionKey[];
  units?: PartitionKey[];
  kept?: PartitionKey[];
  returned?: PartitionKey[];
  released?: { generation: number; partitions: PartitionKey[] };
  leaving?: boolean;
}

export interface LinkRound extends AssignmentRound {
  /** Per member: how many partitions other members claimed in this round. */
  elsewhere: Map<string, number>;
  /** Per member: the partitions it is given now that their last owner released cleanly in the round before. */
  clean: Map<string, PartitionKey[]>;
}

/** The leader's round of `generation` for one link. */
export function assignLink(claims: LinkClaim[], generation = -1): LinkRound {
  const members = [...claims].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const elsewhere = new Map<string, number>();
  const claimed = (m: LinkClaim) => m.owned.filter((k) => k !== LINK_UNIT).length;
  const total = members.reduce((n, m) => n + claimed(m), 0);
  for (const m of members) elsewhere.set(m.memberId, total - claimed(m));
  if (members.length === 0) return { assignments: new Map(), moving: [], elsewhere, clean: new Map() };

  const runner = members.find((m) => m.owned.includes(LINK_UNIT));
  // without a runner, link/0 goes to the member with the least to let go of
  const candidates = members.some((m) => !m.leaving) ? members.filter((m) => !m.leaving) : members;
  const linkTo = runner ?? [...candidates].sort((a, b) => claimed(a) - claimed(b))[0]!;
  const units = new Set((runner?.units ?? []).filter((k) => k !== LINK_UNIT));
  const kept = new Set([...(runner?.kept ?? []), ...members.flatMap((m) => m.returned ?? [])].filter((k) => units.has(k)));
  const spread = [...units].filter((k) => !kept.has(k));
  const staying = members.filter((m) => !m.leaving || m === linkTo);
  const round = assignPartitions(staying.map((m) => ({ memberId: m.memberId, owned: m.owned.filter((k) => k !== LINK_UNIT && !kept.has(k)) })), spread);
  for (const m of members) if (!round.assignments.has(m.memberId)) round.assignments.set(m.memberId, []);

  const moving = [...round.moving];
  const mine = round.assignments.get(linkTo.memberId)!;
  mine.push(LINK_UNIT);
  for (const k of kept) {
    if (members.some((m) => m !== linkTo && m.owned.includes(k))) moving.push(k); // back to the runner once its holder let go
    else mine.push(k);
  }
  mine.sort(comparePartitions);
  const released = new Set(members.flatMap((m) => (m.released?.generation === generation - 1 ? m.released.partitions : [])));
  const clean = new Map(members.map((m) => [m.memberId, round.assignments.get(m.memberId)!.filter((k) => released.has(k) && !m.owned.includes(k))]));
  return { assignments: round.assignments, moving: moving.sort(comparePartitions), elsewhere, clean };
}
