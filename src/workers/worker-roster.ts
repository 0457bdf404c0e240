/**
 * Who is in a link's worker group, as its coordinator says (DescribeGroups): each klink's host,
 * pid, status address and what the group gave it. `klink status` lists them, and a standby's
 * status answer names the klink that runs the link. The coordinator shows assignments only while
 * the group is Stable; in a rebalance the members are listed with nothing assigned.
 */
import { describeGroup, GroupClient, type GroupClientSettings } from "../group/index.ts";
import { decodeAssignment, decodeMetadata } from "./member-metadata.ts";
import { splitPartitionKey, type PartitionKey } from "./assignment.ts";
import { LINK_UNIT } from "./link-assignment.ts";

/** How often a running klink asks the coordinator again. */
const REFRESH_MS = 5_000;

export interface WorkerView {
  host: string;
  pid: number;
  status: string | null;
  /** What the group gave it ("link/0": the whole link); empty for a standby, or while rebalancing. */
  units: PartitionKey[];
}

export interface Roster {
  group: string;
  /** The group's state: Stable, PreparingRebalance, CompletingRebalance, Empty, Dead. */
  state: string;
  workers: WorkerView[];
  /** When the coordinator was asked (ISO time). */
  at: string;
}

export async function describeWorkers(client: GroupClient, groupId: string): Promise<Roster> {
  const d = await describeGroup(client, groupId);
  const workers: WorkerView[] = [];
  for (const m of d.members) {
    const meta = decodeMetadata(m.metadataBytes);
    if (!meta) continue; // not a klink worker: nothing to say about it
    let units: PartitionKey[] = [];
    try {
      units = d.state === "Stable" ? decodeAssignment(m.assignmentBytes).partitions : [];
    } catch {
      units = []; // an unreadable assignment: shown as nothing assigned
    }
    workers.push({ host: meta.worker.host, pid: meta.worker.pid, status: meta.worker.status ?? null, units });
  }
  workers.sort((a, b) => b.units.length - a.units.length || a.host.localeCompare(b.host) || a.pid - b.pid);
  return { group: groupId, state: d.state, workers, at: new Date().toISOString() };
}

/** Asks the coordinator every few seconds and keeps the last answer (status answers must not wait for it). */
export class WorkerRoster {
  private last: Roster | null = null;
  private readonly client: GroupClient;
  private readonly timer: Timer;
  private asking = false;

  constructor(settings: GroupClientSettings, private readonly groupId: string) {
    this.client = new GroupClient(settings);
    this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
  }

  /** The last answer; null before the first one (or when none came yet). */
  latest(): Roster | null {
    return this.last;
  }

  close(): void {
    clearInterval(this.timer);
    this.client.close();
  }

  private refresh(): void {
    if (this.asking) return;
    this.asking = true;
    describeWorkers(this.client, this.groupId)
      .then((r) => (this.last = r), () => {}) // the next round asks again; status shows the last answer and its time
      .finally(() => (this.asking = false));
  }
}

/** Whether the group gave this worker the whole link (link.standby). */
export function runsLink(w: WorkerView): boolean {
  return w.units.includes(LINK_UNIT);
}

/** How `klink status` and `/metrics` say what a worker does (link.spread: how many partitions it copies). */
export function workerRole(w: WorkerView, rosterState: string): string {
  const partitions = copiedPartitions(w).length;
  const copies = `copies ${partitions} partition${partitions === 1 ? "" : "s"}`;
  if (runsLink(w)) return partitions ? `runs the link, ${copies}` : "runs the link";
  if (partitions) return `standby, ${copies}`;
  return rosterState === "Stable" ? "standby" : "rebalancing";
}

/** The partitions a worker copies (link.spread), without the unit `link/0`. */
export function copiedPartitions(w: WorkerView): Array<{ topic: string; partition: number }> {
  return w.units.filter((u) => u !== LINK_UNIT).map(splitPartitionKey);
}

/** The partitions a worker copies, per topic with ranges: "orders[0-2,5] payments[1]" (empty: none). */
export function partitionList(w: WorkerView): string {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of copiedPartitions(w)) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  return [...byTopic].sort(([a], [b]) => a.localeCompare(b)).map(([topic, ps]) => `${topic}[${ranges(ps.sort((a, b) => a - b))}]`).join(" ");
}

/** Sorted numbers as ranges: 0,1,2,5 → "0-2,5". */
function ranges(sorted: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(j > i ? `${sorted[i]}-${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  return out.join(",");
}
