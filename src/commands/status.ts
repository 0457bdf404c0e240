import type { Command } from "./command.ts";
import { EXIT_OK, EXIT_RUNTIME } from "./command.ts";
import { fileArg, parseArgs, type ArgSpec } from "./args.ts";
import { loadForCommand } from "./load-config.ts";
import type { PartitionProgress } from "../link/partition/progress.ts";
import type { GroupProgress } from "../link/handoff.ts";
import { byTopic } from "../status/progress.ts";
import type { StatusIdentity } from "../status/server.ts";
import type { TopicStatus } from "../status/status-view.ts";
import { localLinkId, otherLink } from "../status/identity.ts";
import { stopHint } from "../status/stop-hints.ts";
import type { ClusterReach } from "../link/reachability.ts";
import { partitionList, runsLink, workerRole, type Roster } from "../workers/worker-roster.ts";

const usage = `klink status [FILE] [--json]

Asks the klink running FILE (over its status endpoint, status.listen) how the link is doing:
per topic its lifecycle state (mirroring, dual-write, ...), the records and bytes copied,
the lag in records, in dual write the records routed target → source and the Router's lag,
partitions that stopped, and each linked group: its state (fenced, handed-off,
drain-then-switch, ...), members (client id@host) on both clusters, committed offsets.
Under link.standby also every klink in the link's worker group (pid, host, status address),
which one runs the link and (link.spread) the partitions each copies, as topic[0-2,5]; asked
at a standby, it names the klink that runs the link and exits 2.
FILE defaults to ./migration.yaml.

Options:
  --json   print the running instance's answer as JSON

The answer must come from the link FILE names (link.name, and the link id in FILE's state when
it is a local file): a klink of another link at that address is refused, saying which one answered.

A stopped partition is listed with its lag (records the source holds beyond it) and, for known
reasons, what to do about it.

Exit codes: 0 answered, every partition copying; 1 invalid FILE; 2 a partition has stopped (the
answer is printed all the same), no klink answers at status.listen, the one that answers runs
another link, or it is still starting.`;

const spec: ArgSpec = { flags: ["--json"], positionals: ["[FILE]"] };

export const status: Command = {
  name: "status",
  summary: "ask a running klink for its progress",
  usage,
  spec,
  async run(args) {
    const { positionals, flags } = parseArgs(args, { ...spec, usage });
    const loaded = await loadForCommand("status", fileArg(positionals));
    if (typeof loaded === "number") return loaded;
    const { config } = loaded;
    const url = `http://${config.status.host}:${config.status.port}/status`;
    let body: StatusIdentity & { starting?: true; phase?: string; partitions: PartitionProgress[]; topics: TopicStatus[]; groups?: GroupProgress[]; clusters?: Record<string, ClusterReach> | null; workers?: Roster };
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      body = (await res.json()) as typeof body;
      if (typeof body.link !== "string") throw new Error("the answer is not klink's");
    } catch (err) {
      console.error(`klink status: no klink answers at ${url} (${(err as Error).message}); is \`klink run ${fileArg(positionals)}\` running?`);
      return EXIT_RUNTIME;
    }
    // the endpoint answers with secrets redacted: a link name from ${env:} reads <redacted> there
    const other = otherLink(body, { link: config.secrets.redact(config.link.name), id: await localLinkId(config) }, config.status.listen, config.file);
    if (other) {
      console.error(`klink status: ${other}`);
      return EXIT_RUNTIME;
    }
    if (body.starting && body.workers) {
      const runner = body.workers.workers.find(runsLink);
      console.error(`klink status: the klink at ${config.status.listen} (pid ${body.pid} on host ${body.host}) does not run the link: ${body.phase ?? "starting"}`);
      if (runner) console.error(`  the link runs on pid ${runner.pid} on host ${runner.host}${runner.status ? `: ask it at ${runner.status}` : ""}`);
      printWorkers(body.workers, console.error);
      return EXIT_RUNTIME;
    }
    if (body.starting) {
      console.error(`klink status: klink run of link '${body.link}' (pid ${body.pid} on host ${body.host}) is still starting: ${body.phase ?? "no phase said"}; ask again in a moment`);
      return EXIT_RUNTIME;
    }
    const unreachable = Object.entries(body.clusters ?? {}).filter(([, c]) => !c.reachable);
    if (flags.has("--json")) {
      console.log(JSON.stringify(body, null, 2));
      return body.partitions.some((p) => p.error) || unreachable.length ? EXIT_RUNTIME : EXIT_OK;
    }
    console.log(`link ${body.link} (id ${body.id}), pid ${body.pid} on host ${body.host}, state ${body.state}`);
    if (body.workers) printWorkers(body.workers, console.log);
    for (const [role, c] of unreachable) console.log(`  the ${role} cluster does not answer since ${c.unreachableSince}: ${c.error}; copying waits for it (lag figures are from before)`);
    // An older klink answers no per-topic rates.
    for (const t of body.topics ?? byTopic(body.partitions).map((t) => ({ ...t, recordsPerSecond: null, megabytesPerSecond: null }))) {
      const routed = t.state === "mirroring" ? "" : `; ${t.routedRecords} routed target → source this run, router lag ${t.routerLagRecords}`;
      console.log(
        `  ${t.topic} (${t.state}): ${t.partitions} partitions, ${t.copiedRecords} records (${(t.copiedBytes / 1e6).toFixed(1)} MB) copied this run, ` +
          (t.recordsPerSecond === null ? "" : `${Math.round(t.recordsPerSecond)} records/s, ${t.megabytesPerSecond!.toFixed(1)} MB/s, `) +
          `lag ${t.lagRecords}${t.lagSeconds === null ? "" : ` (~${Math.round(t.lagSeconds)} s)`}${t.fastLane ? `, ${t.fastLane} on the fast lane` : ""}${routed}${t.stopped ? `, ${t.stopped} STOPPED` : ""}`,
      );
    }
    const stopped = body.partitions.filter((p) => p.error);
    for (const p of stopped) {
      const hint = stopHint(p.error!);
      console.log(`  ${p.topic}[${p.partition}] STOPPED at source offset ${p.next}, lag ${Math.max(0, p.sourceEnd - p.next)}: ${p.error}${hint ? `\n    to fix: ${hint}` : ""}`);
    }
    for (const g of body.groups ?? []) {
      const members = `${g.sourceMembers} member(s) on the source${g.sourceClients.length ? ` (${g.sourceClients.join(", ")})` : ""}, ${g.targetMembers} on the target${g.targetClients.length ? ` (${g.targetClients.join(", ")})` : ""}`;
      const committed = g.committed ? `; committed on the ${g.committed.cluster}: ${g.committed.offsets.map((o) => `${o.topic}[${o.partition}]@${o.offset}`).join(" ") || "none"}` : "";
      console.log(`  group ${g.group} (${g.state}): ${members}; ${g.detail}${committed}`);
    }
    return stopped.length || unreachable.length ? EXIT_RUNTIME : EXIT_OK;
  },
};

/** The link's worker group (link.standby), one line per klink in it. */
function printWorkers(r: Roster, print: (line: string) => void): void {
  print(`  workers (group ${r.group}, ${r.state}, as its coordinator said at ${r.at}):`);
  for (const w of r.workers) {
    print(`    pid ${w.pid} on host ${w.host}${w.status ? ` (status ${w.status})` : ""}: ${workerRole(w, r.state)}`);
    const copies = partitionList(w);
    if (copies) print(`      ${copies}`);
  }
}
