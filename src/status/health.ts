/**
 * GET /healthz: the process serves (200 while it answers at all). GET /readyz: the link copies
 * everything it should: 503 with the reasons while klink is starting, a cluster does not answer
 * or a partition has stopped,
 * 200 otherwise. For load balancers, orchestrators and alerting; both answer JSON.
 */
import type { PartitionProgress } from "../link/partition/progress.ts";
import { stopHint } from "./stop-hints.ts";
import type { ClusterReach } from "../link/reachability.ts";

const startedAt = Date.now();

export function healthz(): Response {
  return Response.json({ ok: true, pid: process.pid, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) });
}

/** `snapshot`: the status snapshot ({partitions, ...}), null while klink is starting. */
export function readyz(snapshot: object | null, phase?: string): Response {
  const reasons = notReadyReasons(snapshot, phase);
  return Response.json({ ready: reasons.length === 0, reasons }, { status: reasons.length ? 503 : 200 });
}

export function notReadyReasons(snapshot: object | null, phase?: string): string[] {
  if (!snapshot) return [`starting: ${phase ?? "klink opens the state, checks both clusters and aligns the partitions"}`];
  const { partitions, clusters } = snapshot as { partitions: PartitionProgress[]; clusters?: Record<string, ClusterReach> | null };
  const unreachable = Object.entries(clusters ?? {}).filter(([, c]) => !c.reachable)
    .map(([role, c]) => `the ${role} cluster does not answer since ${c.unreachableSince}: ${c.error}`);
  return [...unreachable, ...partitions.filter((p) => p.error).map((p) => {
    const hint = stopHint(p.error!);
    if (p.retrying) return `${p.topic}[${p.partition}] interrupted: ${p.error} (klink tries again by itself)`;
    return `${p.topic}[${p.partition}] stopped: ${p.error}${hint ? ` (${hint})` : ""}`;
  })];
}
