/**
 * What the worker group's leader hands out for one link (docs/workers.md): the unit `link/0` (the
 * state, the lifecycle, the commands, the exact lane) and, under link.spread, the link's
 * partitions. The worker that owns `link/0` (the link's runner) says in its JoinGroup metadata
 * which partitions the link has (`units`) and which must stay with it (`kept`: translate mode,
 * stopped, a topic past mirroring or one a lifecycle step waits for); a worker that cannot copy a
 * partition any more says so (`returned`) and it goes back to the runner. The rest is spread by
 * assignPartitions: balanced, sticky, cooperative.
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
}

export interface LinkRound extends AssignmentRound {
  /** Per member: how many partitions other members claimed in this round. */
  elsewhere: Map<string, number>;
}

export function assignLink(claims: LinkClaim[]): LinkRound {
  const members = [...claims].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const elsewhere = new Map<string, number>();
  const claimed = (m: LinkClaim) => m.owned.filter((k) => k !== LINK_UNIT).length;
  const total = members.reduce((n, m) => n + claimed(m), 0);
  for (const m of members) elsewhere.set(m.memberId, total - claimed(m));
  if (members.length === 0) return { assignments: new Map(), moving: [], elsewhere };

  const runner = members.find((m) => m.owned.includes(LINK_UNIT));
  // without a runner, link/0 goes to the member with the least to let go of
  const linkTo = runner ?? [...members].sort((a, b) => claimed(a) - claimed(b))[0]!;
  const units = new Set((runner?.units ?? []).filter((k) => k !== LINK_UNIT));
  const kept = new Set([...(runner?.kept ?? []), ...members.flatMap((m) => m.returned ?? [])].filter((k) => units.has(k)));
  const spread = [...units].filter((k) => !kept.has(k));
  const round = assignPartitions(members.map((m) => ({ memberId: m.memberId, owned: m.owned.filter((k) => k !== LINK_UNIT && !kept.has(k)) })), spread);

  const moving = [...round.moving];
  const mine = round.assignments.get(linkTo.memberId)!;
  mine.push(LINK_UNIT);
  for (const k of kept) {
    if (members.some((m) => m !== linkTo && m.owned.includes(k))) moving.push(k); // back to the runner once its holder let go
    else mine.push(k);
  }
  mine.sort(comparePartitions);
  return { assignments: round.assignments, moving: moving.sort(comparePartitions), elsewhere };
}
