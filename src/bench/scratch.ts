/**
 * `klink bench`'s scratch topics: created for the run on the cluster it measures, named
 * `klink-bench-<link>-<random>` so they never meet a user's topic, and deleted at the end (also
 * when a phase fails). A cluster that does not let klink create them is a one-line refusal.
 */
import { randomBytes } from "node:crypto";
import { Admin, KafkaError } from "../rdkafka/index.ts";
import { ErrorCode } from "../rdkafka/errors.ts";
import type { Cluster } from "../link/cluster.ts";
import { RuntimeError } from "../errors.ts";

export const SCRATCH_PREFIX = "klink-bench-";

const REFUSED = new Set<number>([ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, ErrorCode.POLICY_VIOLATION]);

/** A cluster's refusal to let klink create, write, read or delete its scratch topics, as one line; other errors as they are. */
export function asRefusal(role: "source" | "target", err: unknown): unknown {
  if (!(err instanceof KafkaError) || !REFUSED.has(err.code)) return err;
  return new RuntimeError(
    `klink bench needs CREATE, DELETE, READ and WRITE on topics with the prefix '${SCRATCH_PREFIX}' on the ${role} cluster, which refused: ${err.message}; ` +
      `grant them to klink's principal there, or run bench with an account that has them. Nothing was written to your topics.`,
  );
}

export function scratchName(linkName: string): string {
  return `${SCRATCH_PREFIX}${linkName.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 80)}-${randomBytes(4).toString("hex")}`;
}

/** The scratch topics made on one cluster; `deleteAll` removes them. */
export class ScratchTopics {
  private readonly made: string[] = [];
  constructor(private readonly role: "source" | "target", private readonly cluster: Cluster) {}

  async create(name: string, partitions: number): Promise<void> {
    const admin = new Admin(this.cluster.config, this.cluster.options);
    try {
      await admin.createTopics([{ name, partitions }]);
      this.made.push(name);
    } catch (err) {
      throw asRefusal(this.role, err);
    } finally {
      admin.close();
    }
  }

  /** Registers a topic another part created (the Link creates the target copy of a scratch topic). */
  adopt(name: string): void {
    this.made.push(name);
  }

  /** Deletes every scratch topic made; returns the ones that could not be deleted (with why). */
  async deleteAll(): Promise<string[]> {
    if (this.made.length === 0) return [];
    const admin = new Admin(this.cluster.config, this.cluster.options);
    const names = this.made.splice(0);
    try {
      await admin.deleteTopics(names);
      return [];
    } catch (err) {
      return [`${names.join(", ")} on the ${this.role} (${(err as Error).message})`];
    } finally {
      admin.close();
    }
  }
}
