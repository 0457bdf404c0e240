/** Where what klink copied of an exact-mode partition ends: the target's end offset of the partition. */
import type { MigrationConfig } from "../../config/types.ts";
import { clientSettings } from "../../config/clients.ts";
import { connectAdmin } from "../../plan/connect.ts";

export async function copiedEnd(config: MigrationConfig, topic: string, partition: number): Promise<number> {
  const { admin } = await connectAdmin("target", config.clusters.target.bootstrap.join(","), await clientSettings(config, "target", true));
  try {
    return (await admin.watermarks([{ topic, partition }]))[0]!.high;
  } finally {
    admin.close();
  }
}
