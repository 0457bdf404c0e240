/**
 * DescribeGroups for one classic group, with the consumer protocol's member metadata decoded:
 * klink reads a source group this way to learn the assignor (protocol) its members agreed on,
 * and who they are.
 *
 * The coordinator fills in `protocol`, and each member's subscription and assignment, only while
 * the group is Stable. It names the one protocol the members agreed on; the full list of assignor
 * names each member offers is not visible through any API.
 */
import type { GroupClient } from "./client.ts";
import { decodeAssignment, decodeSubscription, type Assignment, type Subscription } from "./consumer-protocol.ts";
import { Err, GroupProtocolError } from "./errors.ts";
import { DescribeGroups } from "./messages.ts";

export interface GroupMemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** Decoded ConsumerProtocolSubscription (protocol type "consumer", Stable group), else null. */
  subscription: Subscription | null;
  /** Decoded ConsumerProtocolAssignment (protocol type "consumer", Stable group), else null. */
  assignment: Assignment | null;
  /** The member's metadata and assignment as sent, for a protocol type other than "consumer". */
  metadataBytes: Buffer;
  assignmentBytes: Buffer;
}

export interface GroupDescription {
  groupId: string;
  /** Empty, PreparingRebalance, CompletingRebalance, Stable, Dead (no such group), ... */
  state: string;
  /** "consumer" for consumer groups; "" for a group that only has offsets. */
  protocolType: string;
  /** The assignor the members agreed on, e.g. "range" (Stable groups only). */
  protocol: string;
  members: GroupMemberDescription[];
}

export async function describeGroup(client: GroupClient, groupId: string): Promise<GroupDescription> {
  const group = await client.coordinated(groupId, async (conn) => {
    const r = await conn.request(DescribeGroups, { groups: [groupId], includeAuthorizedOperations: false });
    const g = r.groups.find((x) => x.groupId === groupId) ?? r.groups[0];
    if (!g) throw new GroupProtocolError(-1, "DescribeGroups", `group ${groupId}`, "the response lists no group");
    // v6+ (Kafka 4.x) says GROUP_ID_NOT_FOUND where older versions say state Dead
    if (g.errorCode && g.errorCode !== Err.GROUP_ID_NOT_FOUND) throw new GroupProtocolError(g.errorCode, "DescribeGroups", `group ${groupId}`, g.errorMessage);
    return g;
  });
  if (group.errorCode === Err.GROUP_ID_NOT_FOUND) return { groupId, state: "Dead", protocolType: "", protocol: "", members: [] };
  const consumer = group.protocolType === "consumer";
  return {
    groupId,
    state: group.groupState,
    protocolType: group.protocolType,
    protocol: group.protocolData,
    members: group.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      subscription: consumer ? tryDecode(m.memberMetadata, decodeSubscription) : null,
      assignment: consumer ? tryDecode(m.memberAssignment, decodeAssignment) : null,
      metadataBytes: m.memberMetadata,
      assignmentBytes: m.memberAssignment,
    })),
  };
}

function tryDecode<T>(bytes: Buffer, decode: (b: Buffer) => T): T | null {
  if (bytes.length === 0) return null;
  try {
    return decode(bytes);
  } catch {
    return null; // not the consumer protocol's layout (a custom protocol under type "consumer")
  }
}
