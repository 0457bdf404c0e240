/**
 * Old source clusters: which Kafka release the source runs, read from its ApiVersions answer (by
 * klink's own group-protocol client), and what klink cannot do there. `plan` lists it under
 * problems, and `run` says it (or refuses) before it copies anything.
 *
 * Tried against real brokers (test/old-sources): 2.8 and 2.4 do everything; 1.1 mirrors, dual
 * writes and hands groups off, but klink's group client cannot join a group there, so a handed-off
 * group is not held on the source (a consumer started there again reads from its old offsets) and
 * `klink rollback` cannot move groups back. Brokers before 0.11 have no transactions, record
 * headers or read_committed fetches, which exact copying builds on.
 */
import type { ClientSettings } from "../config/clients.ts";
import { GroupClient } from "../group/client.ts";
import { groupSettings } from "../link/cluster.ts";
import { DescribeGroups, FindCoordinator, Heartbeat, JoinGroup, LeaveGroup, OffsetCommit, SyncGroup, type Api } from "../group/messages.ts";
import type { Problem } from "./types.ts";

export type ApiRanges = ReadonlyMap<number, { min: number; max: number }>;

/** A release and an API (key, lowest max version) it brought: the newest one a broker has dates it. */
const RELEASES: Array<{ release: string; key: number; max: number; name: string }> = [
  { release: "0.10", key: 18, max: 0, name: "ApiVersions" },
  { release: "0.11", key: 22, max: 0, name: "InitProducerId" },
  { release: "1.0", key: 37, max: 0, name: "CreatePartitions" },
  { release: "1.1", key: 42, max: 0, name: "DeleteGroups" },
  { release: "2.0", key: 1, max: 8, name: "Fetch v8" },
  { release: "2.1", key: 1, max: 10, name: "Fetch v10" },
  { release: "2.2", key: 43, max: 0, name: "ElectLeaders" },
  { release: "2.3", key: 44, max: 0, name: "IncrementalAlterConfigs" },
  { release: "2.4", key: 47, max: 0, name: "OffsetDelete" },
  { release: "2.6", key: 48, max: 0, name: "DescribeClientQuotas" },
  { release: "2.7", key: 50, max: 0, name: "DescribeUserScramCredentials" },
  { release: "2.8", key: 60, max: 0, name: "DescribeCluster" },
  { release: "3.0", key: 65, max: 0, name: "DescribeTransactions" },
];

/** What klink's group client sends to hold a group on a cluster (GroupFence). */
const FENCE_APIS: Api<any, any>[] = [FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, DescribeGroups];
const INIT_PRODUCER_ID = 22;

/** "Kafka 1.1", "Kafka 2.4 to 2.5", "Kafka 3.0 or later": the span of releases the broker's API versions fit. */
export function kafkaRelease(versions: ApiRanges): string {
  const has = (r: (typeof RELEASES)[number]) => (versions.get(r.key)?.max ?? -1) >= r.max;
  let i = -1;
  while (i + 1 < RELEASES.length && has(RELEASES[i + 1]!)) i++;
  if (i < 0) return "Kafka before 0.10";
  if (i === RELEASES.length - 1) return `Kafka ${RELEASES[i]!.release} or later`;
  const next = RELEASES[i + 1]!.release;
  const last = next === "2.6" ? "2.5" : null; // the only release without an API of its own here
  return `Kafka ${RELEASES[i]!.release}${last ? ` to ${last}` : ""}`;
}

/** "JoinGroup v5 (it has v0-v2)" for each API the broker cannot speak in a version klink sends. */
function lacking(versions: ApiRanges, apis: Api<any, any>[]): string[] {
  const out: string[] = [];
  for (const api of apis) {
    const b = versions.get(api.key);
    if (!b) out.push(`${api.name} (absent)`);
    else if (Math.min(api.maxVersion, b.max) < Math.max(api.minVersion, b.min)) out.push(`${api.name} v${api.minVersion} (it has v${b.min}-v${b.max})`);
  }
  return out;
}

/** The problems of a source that answers with `versions`; `groups`: the migration hands groups off. */
export function sourceProblems(versions: ApiRanges, groups: boolean): Problem[] {
  const release = kafkaRelease(versions);
  const problems: Problem[] = [];
  if (!versions.has(INIT_PRODUCER_ID)) {
    problems.push({
      severity: "error", subject: "source cluster",
      message: `${release} lacks InitProducerId (Kafka 0.11): klink needs transactions, record headers and read_committed reads there; upgrade the source to 0.11 or later first`,
    });
  }
  const fence = lacking(versions, FENCE_APIS);
  if (groups && fence.length) {
    problems.push({
      severity: "warning", subject: "source cluster",
      message: `${release} cannot hold a handed-off group for klink, which needs Kafka 2.4+ there (${fence.join(", ")}): ` +
        "groups are handed off, but a consumer started on the source again afterwards reads from its old offsets, and `klink rollback` cannot move groups back",
    });
  }
  return problems;
}

/** The API versions of any bootstrap broker of the cluster `settings` reach (a one-line ConnectionError otherwise). */
export async function readApiVersions(settings: ClientSettings): Promise<ApiRanges> {
  const client = new GroupClient(groupSettings(settings));
  try {
    return (await client.anyBroker()).brokerVersions();
  } finally {
    client.close();
  }
}
