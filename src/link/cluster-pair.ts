/**
 * A link's state belongs to one (source, target) pair of clusters: the first start stores both
 * cluster ids, every later start checks them, so a file pointed at other clusters is refused.
 */
import { KafkaError, type Admin } from "../rdkafka/index.ts";
import { ErrorCode } from "../rdkafka/errors.ts";
import type { Store } from "../state/store.ts";
import { stateKey } from "./partition/state.ts";

export async function checkClusterPair(store: Store, sourceAdmin: Admin, targetAdmin: Admin): Promise<void> {
  for (const [role, admin] of [["source", sourceAdmin], ["target", targetAdmin]] as const) {
    const described = await admin.describeCluster().catch((err: unknown) => {
      if (!(err instanceof KafkaError)) throw err;
      throw new KafkaError(err.code, `the ${role} cluster stopped answering while klink started: ${err.message.replace(/ \(\w+\)$/, "")}; run klink again once it answers`);
    });
    const id = described.clusterId ?? "unknown";
    const known = await store.get(stateKey.clusterId(role));
    if (known === null) await store.write([{ put: stateKey.clusterId(role), value: id }]);
    else if (known !== id) {
      throw new KafkaError(ErrorCode.STATE, `the ${role} cluster's id is ${id}, but the state in ${store.location} belongs to cluster ${known}; use a new state file for a new cluster pair`);
    }
  }
}
