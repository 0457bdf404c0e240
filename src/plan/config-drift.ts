/** `klink plan`'s view of live config sync: what differs on an existing target topic, and whether `klink run` would sync it. */
import type { ConfigEntry } from "../rdkafka/admin.ts";
import type { TopicSettings } from "../config/types.ts";
import { configDrift } from "../link/config-sync.ts";
import type { ConfigDriftPlan } from "./types.ts";
import { targetIsPrimary, type TopicLifecycle } from "../state/store.ts";

export function configDriftPlan(sourceConfigs: ConfigEntry[], targetConfigs: ConfigEntry[], settings: TopicSettings, linkedState: string | null): ConfigDriftPlan {
  // What creation would copy: drift is shown also where run would not sync it.
  const changes = configDrift(sourceConfigs, targetConfigs, settings.create, settings.configSync.exclude);
  const why = targetIsPrimary(linkedState as TopicLifecycle | null) ? "promoted: the target is the authority"
    : !settings.configSync.enabled ? "link.configSync.enabled is false"
    : null;
  return { synced: why === null, why, changes };
}
