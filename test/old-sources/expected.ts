/**
 * What klink does with each old source (ZooKeeper mode), as found against real brokers with the
 * 4.4.0 target; test/old-sources/run.ts runs the scenarios and old-source.check.ts checks plan/run.
 */
import type { KafkaCluster, OldKafkaVersion } from "../harness/cluster.ts";
import { isOldVersion } from "../harness/zookeeper.ts";

export interface OldSourceExpectation {
  /** How `klink plan` dates the broker by its API versions. */
  release: string;
  /**
   * klink's group client can hold a handed-off group on the source (JoinGroup v5, SyncGroup v3,
   * Heartbeat v3, LeaveGroup v3, OffsetCommit v7, DescribeGroups v4: Kafka 2.4+).
   */
  holdsGroups: boolean;
  /** `plan` and `run` refuse the source (exit 1, one line): it lacks what copying builds on. */
  refused?: boolean;
}

export const OLD_SOURCES: Record<OldKafkaVersion, OldSourceExpectation> = {
  "2.8.2": { release: "Kafka 2.8", holdsGroups: true },
  "2.4.1": { release: "Kafka 2.4 to 2.5", holdsGroups: true },
  "1.1.1": { release: "Kafka 1.1", holdsGroups: false },
  // no InitProducerId, DescribeConfigs, record headers or read_committed fetches (all 0.11);
  // on Java 17 it needs jaxb-api on its class path (see its POM)
  "0.10.2.2": { release: "Kafka 0.10", holdsGroups: false, refused: true },
};

/** The expectation for cluster `c` if it is an old source, else null (the KRaft clusters can do everything). */
export function oldSource(c: KafkaCluster): OldSourceExpectation | null {
  return isOldVersion(c.version) ? OLD_SOURCES[c.version] : null;
}
