/**
 * A group's committed offsets: OffsetFetch (read, by anyone) and the OffsetCommit request a
 * member sends (fence.ts commits as the group's member, with its generation and member id).
 */
import type { GroupClient } from "./client.ts";
import { Err, errorName, GroupProtocolError, isCoordinatorError } from "./errors.ts";
import { OffsetFetch, type OffsetCommitRequest, type OffsetCommitResponse } from "./messages.ts";

export interface CommittedOffset {
  topic: string;
  partition: number;
  /** The next offset the group reads. */
  offset: number;
  /** -1 when unknown. */
  leaderEpoch?: number;
  metadata?: string | null;
}

/** The group's committed offsets for `topics` (all topics the group has offsets for: null). Partitions without one are left out. */
export async function fetchOffsets(client: GroupClient, groupId: string, topics: Array<{ topic: string; partitions: number[] }> | null = null): Promise<CommittedOffset[]> {
  const r = await client.coordinated(groupId, async (conn) => {
    const res = await conn.request(OffsetFetch, {
      groupId,
      topics: topics && topics.map((t) => ({ name: t.topic, partitionIndexes: t.partitions })),
      requireStable: false,
    });
    if (res.errorCode) throw new GroupProtocolError(res.errorCode, "OffsetFetch", `group ${groupId}`);
    return res;
  });
  const out: CommittedOffset[] = [];
  for (const t of r.topics) {
    for (const p of t.partitions) {
      if (p.errorCode) throw new GroupProtocolError(p.errorCode, "OffsetFetch", `group ${groupId}, ${t.name}[${p.partitionIndex}]`);
      if (p.committedOffset >= 0) out.push({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.metadata });
    }
  }
  return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/** The OffsetCommit request of a member: offsets grouped by topic. */
export function commitRequest(
  groupId: string,
  member: { generationId: number; memberId: string; groupInstanceId: string | null },
  offsets: CommittedOffset[],
): OffsetCommitRequest {
  const byTopic = new Map<string, OffsetCommitRequest["topics"][number]>();
  for (const o of offsets) {
    let t = byTopic.get(o.topic);
    if (!t) byTopic.set(o.topic, (t = { name: o.topic, partitions: [] }));
    t.partitions.push({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch ?? -1, committedMetadata: o.metadata ?? null });
  }
  return { groupId, generationIdOrMemberEpoch: member.generationId, memberId: member.memberId, groupInstanceId: member.groupInstanceId, topics: [...byTopic.values()] };
}

/**
 * The error of an OffsetCommit response as one code: 0 when every partition was committed; a
 * coordinator error (to retry elsewhere) or a group error (REBALANCE_IN_PROGRESS, ...) when any
 * partition has one; else a GroupProtocolError naming the partitions that failed.
 */
export function commitError(groupId: string, r: OffsetCommitResponse): number {
  const failed = r.topics.flatMap((t) => t.partitions.filter((p) => p.errorCode).map((p) => ({ topic: t.name, ...p })));
  if (!failed.length) return Err.NONE;
  const groupLevel = failed.find(
    (p) => isCoordinatorError(p.errorCode) || [Err.REBALANCE_IN_PROGRESS, Err.ILLEGAL_GENERATION, Err.UNKNOWN_MEMBER_ID, Err.FENCED_INSTANCE_ID].includes(p.errorCode as never),
  );
  if (groupLevel) return groupLevel.errorCode;
  const list = failed.map((p) => `${p.topic}[${p.partitionIndex}]: ${errorName(p.errorCode)}`).join(", ");
  throw new GroupProtocolError(failed[0]!.errorCode, "OffsetCommit", `group ${groupId}`, list);
}
