/**
 * Whether each cluster answers, asked every 5 s in the background (DescribeCluster with a 5 s
 * limit, on an admin client of its own so a slow answer holds nothing else up). /readyz is not
 * ready and `klink status` says so while one does not; copying itself waits for the cluster as
 * librdkafka does, this only makes the wait visible.
 */
import { Admin } from "../rdkafka/index.ts";
import type { Cluster } from "./cluster.ts";

export interface ClusterReach {
  reachable: boolean;
  /** ISO time of the first failed ask in a row (null while reachable). */
  unreachableSince: string | null;
  /** The last failed ask's error (null while reachable). */
  error: string | null;
}

const EVERY_MS = 5_000;
const LIMIT_MS = 5_000;

class Probe {
  private readonly admin: Admin;
  private asking = false;
  private last = -Infinity;
  state: ClusterReach = { reachable: true, unreachableSince: null, error: null };

  constructor(readonly role: "source" | "target", cluster: Cluster) {
    this.admin = new Admin(cluster.config, { ...cluster.options, timeoutMs: LIMIT_MS });
  }

  tick(): void {
    if (this.asking || performance.now() - this.last < EVERY_MS) return;
    this.asking = true;
    this.last = performance.now();
    this.admin.describeCluster().then(
      () => (this.state = { reachable: true, unreachableSince: null, error: null }),
      (err: Error) => (this.state = { reachable: false, unreachableSince: this.state.unreachableSince ?? new Date().toISOString(), error: err.message }),
    ).finally(() => (this.asking = false));
  }

  async close(): Promise<void> {
    while (this.asking) await Bun.sleep(5);
    this.admin.close();
  }
}

export class Reachability {
  private readonly probes: Probe[];

  constructor(source: Cluster, target: Cluster) {
    this.probes = [new Probe("source", source), new Probe("target", target)];
  }

  /** Starts the asks that are due; never waits for them. */
  tick(): void {
    for (const p of this.probes) p.tick();
  }

  snapshot(): Record<"source" | "target", ClusterReach> {
    const [source, target] = this.probes;
    return { source: source!.state, target: target!.state };
  }

  async close(): Promise<void> {
    await Promise.all(this.probes.map((p) => p.close()));
  }
}
