/** `klink offsets export-groups`: offset files for groups klink does not hand off (link/group-export.ts). */
import { EXIT_OK } from "./command.ts";
import { UserError } from "../errors.ts";
import { fileArg } from "./args.ts";
import { loadForCommand } from "./load-config.ts";
import { clientSettings } from "../config/clients.ts";
import { connectAdmin } from "../plan/connect.ts";
import { linkedTopics, openStore } from "../link/session.ts";
import { exportGroups, groupsToExport } from "../link/group-export.ts";
import type { Admin } from "../rdkafka/admin.ts";

export async function exportGroupsCommand(positionals: string[], flags: Set<string>, values: Map<string, string>, usage: string): Promise<number> {
  const dir = values.get("--out");
  if (!dir) throw new UserError(`--out DIR is required\n\n${usage}`);
  const named = values.get("--groups")?.split(",").map((g) => g.trim()).filter(Boolean);
  const loaded = await loadForCommand("offsets", fileArg(positionals));
  if (typeof loaded === "number") return loaded;
  const { config } = loaded;
  const admins: Admin[] = [];
  const store = await openStore(config, true);
  try {
    const connect = async (role: "source" | "target") => {
      const { admin } = await connectAdmin(role, config.clusters[role].bootstrap.join(","), await clientSettings(config, role, true));
      admins.push(admin);
      return admin;
    };
    const [source, target] = [await connect("source"), await connect("target")];
    const linked = new Set((await linkedTopics(config, source)).map((t) => t.name));
    const groups = await groupsToExport(source, config.groups, linked, named);
    const exported = await exportGroups(source, target, store, groups, dir);
    if (flags.has("--json")) {
      console.log(JSON.stringify({ out: dir, groups: exported }));
      return EXIT_OK;
    }
    if (exported.length === 0) console.log("no group to export: every group with offsets on linked topics is handed off by klink (groups:)");
    for (const e of exported) {
      console.log(`${e.group} (${e.why}): ${e.file ? `${e.offsets.length} partition(s) written to ${e.file}` : "nothing written"}`);
      for (const s of e.skipped) console.log(`  left out ${s.topic}[${s.partition}] at source offset ${s.sourceOffset}: ${s.why}`);
    }
    return EXIT_OK;
  } finally {
    for (const a of admins) a.close();
    await store.close();
  }
}
