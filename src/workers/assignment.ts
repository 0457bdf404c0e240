/**
 * How the leader of the worker group spreads a link's partitions over the workers: balanced
 * (every worker gets ⌊n/m⌋ or ⌈n/m⌉), sticky (a worker keeps what it owns up to its share) and
 * cooperative (docs/workers.md): a partition that must move is assigned to nobody in this round.
 * Its owner sees it missing, stops it, and rejoins; the next round finds it unowned and gives it
 * to a worker below its share. So no round hands a partition to a worker while another still
 * owns it.
 */

/** A partition as the worker group names it: "topic/partition". */
export type PartitionKey = string;

export interface WorkerClaim {
  memberId: string;
  /** What the worker says it owns (its JoinGroup metadata). */
  owned: PartitionKey[];
}

export interface AssignmentRound {
  /** member id → the partitions it owns after this round, sorted. */
  assignments: Map<string, PartitionKey[]>;
  /** Partitions held back until their owner has let go of them. */
  moving: PartitionKey[];
}

export function partitionKey(topic: string, partition: number): PartitionKey {
  return `${topic}/${partition}`;
}

/** The keys of `parts`, sorted (as worker metadata lists them). */
export function partitionKeys(parts: Array<{ topic: string; partition: number }>): PartitionKey[] {
  return parts.map((p) => partitionKey(p.topic, p.partition)).sort();
}

export function splitPartitionKey(key: PartitionKey): { topic: string; partition: number } {
  const slash = key.lastIndexOf("/");
  return { topic: key.slice(0, slash), partition: Number(key.slice(slash + 1)) };
}

/** One round of the cooperative, sticky, balanced assignment of `partitions` over `workers`. */
export function assignPartitions(workers: WorkerClaim[], partitions: PartitionKey[]): AssignmentRound {
  const all = new Set(partitions);
  const members = [...workers].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const kept = new Map<string, PartitionKey[]>();
  const claimed = new Set<PartitionKey>();
  // a partition claimed twice (a worker that has not yet learnt it lost it) stays with the first
  // claimer in member order; the other claimer sees it missing and stops it
  for (const w of members) {
    const mine = [...new Set(w.owned)].filter((p) => all.has(p) && !claimed.has(p)).sort(comparePartitions);
    for (const p of mine) claimed.add(p);
    kept.set(w.memberId, mine);
  }
  const assignments = new Map<string, PartitionKey[]>();
  if (members.length === 0) return { assignments, moving: [] };

  // the larger shares go to the workers that already own the most: fewer partitions move
  const base = Math.floor(all.size / members.length);
  let larger = all.size % members.length;
  const byOwned = [...members].sort((a, b) => kept.get(b.memberId)!.length - kept.get(a.memberId)!.length);
  const share = new Map<string, number>();
  for (const w of byOwned) share.set(w.memberId, base + (larger-- > 0 ? 1 : 0));

  const moving: PartitionKey[] = [];
  for (const w of members) {
    const mine = kept.get(w.memberId)!;
    const quota = share.get(w.memberId)!;
    moving.push(...mine.slice(quota));
    assignments.set(w.memberId, mine.slice(0, quota));
  }
  const moved = new Set(moving);
  const free = [...all].filter((p) => !claimed.has(p) && !moved.has(p)).sort(comparePartitions);
  for (const p of free) {
    // the worker furthest below its share
    let best: string | null = null;
    let gap = 0;
    for (const w of members) {
      const g = share.get(w.memberId)! - assignments.get(w.memberId)!.length;
      if (g > gap) [best, gap] = [w.memberId, g];
    }
    if (best === null) break; // cannot happen: the shares add up to the partitions
    assignments.get(best)!.push(p);
  }
  for (const list of assignments.values()) list.sort(comparePartitions);
  return { assignments, moving: moving.sort(comparePartitions) };
}

/** Topic, then partition number (not "t/10" before "t/2"). */
export function comparePartitions(a: PartitionKey, b: PartitionKey): number {
  const x = splitPartitionKey(a);
  const y = splitPartitionKey(b);
  return x.topic < y.topic ? -1 : x.topic > y.topic ? 1 : x.partition - y.partition;
}
