/** What every nemesis workload does: write before klink starts, write while it copies, then judge both clusters. */
import type { Clusters } from "../link/dual-write-workload.ts";
import type { WorkloadName } from "./plan.ts";
import type { Random } from "./random.ts";
import type { Violation } from "./violations.ts";

export interface WorkloadContext {
  clusters: Clusters;
  partitions: number;
  /** the workload's own generator (forked from the seed) */
  rng: Random;
  log: (line: string) => void;
}

export interface Workload {
  readonly name: WorkloadName;
  /** the topics klink links (fresh, unique names) */
  readonly topics: string[];
  /** `offsets:` in migration.yaml */
  readonly offsets: "exact" | "auto";
  /** creates the topics and writes what is there before klink starts */
  prepare(): Promise<void>;
  /** starts the writers that write while klink copies */
  startLive(): Promise<void>;
  /** stops them; afterwards every write is acknowledged or failed and nothing is left open */
  stopLive(): Promise<void>;
  /** reads both clusters (after klink caught up) and says what is wrong */
  check(): Promise<Violation[]>;
  /** clean-up after a failure: ends every process of the workload at once */
  kill(): Promise<void>;
}
