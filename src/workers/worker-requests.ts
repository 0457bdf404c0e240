/**
 * The worker group's four requests to its coordinator (JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup), each sent to whichever broker coordinates the group now and with the timeouts the
 * group protocol needs: a JoinGroup or SyncGroup is answered only once every member has rejoined
 * or the rebalance timeout has passed. worker-group.ts decides what to send and what an answer means.
 */
import { checkCoordinator, type GroupClient } from "../group/index.ts";
import { Heartbeat, JoinGroup, LeaveGroup, SyncGroup, type Api } from "../group/messages.ts";
import { WORKER_PROTOCOL, WORKER_PROTOCOL_TYPE } from "./member-metadata.ts";

export interface Member {
  groupId: string;
  memberId: string;
  generationId: number;
}

export function joinGroup(
  client: GroupClient,
  o: { groupId: string; memberId: string; sessionTimeoutMs: number; rebalanceTimeoutMs: number; metadata: Buffer; reason: string },
) {
  const body = {
    groupId: o.groupId, sessionTimeoutMs: o.sessionTimeoutMs, rebalanceTimeoutMs: o.rebalanceTimeoutMs, memberId: o.memberId, groupInstanceId: null,
    protocolType: WORKER_PROTOCOL_TYPE, protocols: [{ name: WORKER_PROTOCOL, metadata: o.metadata }], reason: o.reason,
  };
  return ask(client, o.groupId, JoinGroup, body, o.rebalanceTimeoutMs + 5_000);
}

/** The leader sends every member's assignment; the others send none. Answers the member's own. */
export function syncGroup(client: GroupClient, m: Member, rebalanceTimeoutMs: number, assignments: Array<{ memberId: string; assignment: Uint8Array }>) {
  const body = { ...m, groupInstanceId: null, protocolType: WORKER_PROTOCOL_TYPE, protocolName: WORKER_PROTOCOL, assignments };
  return ask(client, m.groupId, SyncGroup, body, rebalanceTimeoutMs + 5_000);
}

export function heartbeat(client: GroupClient, m: Member, sessionTimeoutMs: number) {
  return ask(client, m.groupId, Heartbeat, { ...m, groupInstanceId: null }, undefined, sessionTimeoutMs);
}

export function leaveGroup(client: GroupClient, groupId: string, memberId: string, reason: string) {
  return ask(client, groupId, LeaveGroup, { groupId, members: [{ memberId, groupInstanceId: null, reason }] }, undefined, 5_000);
}

/**
 * One request to the group's coordinator. `requestMs`: how long the answer may take (the
 * connection's request timeout when undefined); `overallMs` also covers finding the coordinator
 * again when it moved (default: twice `requestMs`).
 */
function ask<Req, Res extends { errorCode: number }>(client: GroupClient, groupId: string, api: Api<Req, Res>, body: Req, requestMs: number | undefined, overallMs = 2 * requestMs!): Promise<Res> {
  return client.coordinated(groupId, async (conn) => checkCoordinator(await conn.request(api, body, requestMs), api.name, groupId), overallMs);
}
