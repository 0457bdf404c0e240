/**
 * `klink handoff`, `promote`, `rollback`, `resume`, `failback`, `retire`: the operator's commands to the running
 * instance, sent to its status endpoint (status.listen) with the link's name and id. The running
 * klink checks that the request is for its link and the step is safe, and answers with what it
 * did or why not.
 */
import type { Command } from "./command.ts";
import { EXIT_OK, EXIT_RUNTIME } from "./command.ts";
import { parseArgs, type ArgSpec } from "./args.ts";
import { loadForCommand } from "./load-config.ts";
import type { ControlAnswer, ControlRequest } from "../status/server.ts";
import { DRY_RUN_PATH } from "../status/control-endpoint.ts";
import { localLinkId } from "../status/identity.ts";
import { readToken } from "../status/token.ts";
import { KLINK_VERSION } from "../version.ts";
import { hostname, userInfo } from "node:os";

function controlCommand(action: ControlRequest["action"], what: string, summary: string, details: string, force: boolean, dryRun: boolean): Command {
  const usage = `klink ${action} FILE ${what}${force ? " [--force]" : ""}${dryRun ? " [--dry-run]" : ""} [--json]

${details}
${dryRun ? `  --dry-run   ask the running klink what it would do now, and change nothing
` : ""}  --json      print the running klink's answer as JSON: {ok, message}

The request carries the control token \`klink run\` wrote into status.tokenFile (default
<FILE without .yaml>.klink.token beside FILE, readable by its owner only), and names the link
(link.name of FILE, and its link id when FILE's state is a local file); a klink of another link
at status.listen refuses it and does nothing. The running klink logs who asked. Under
link.standby a klink that stands by passes the command on to the one that runs the link and
prints its answer (docs/workers.md, "Commands at any worker").

Exit codes: 0 done (or accepted), 1 invalid FILE or arguments, 2 refused (the reason is printed:
also when the klink at status.listen runs another link, or the token is missing or wrong) or no
klink answers at status.listen.`;
  const spec: ArgSpec = { flags: [...(force ? ["--force"] : []), ...(dryRun ? ["--dry-run"] : []), "--json"], positionals: ["FILE", what] };
  return {
    name: action,
    summary,
    usage,
    spec,
    async run(args) {
      const { positionals, flags } = parseArgs(args, { ...spec, usage });
      if (positionals.length < 2) {
        console.error(`klink ${action}: give the migration file and the ${what.toLowerCase()}\n\n${usage}`);
        return 1;
      }
      const loaded = await loadForCommand(action, positionals[0]!);
      if (typeof loaded === "number") return loaded;
      const { config } = loaded;
      // Without a token the request is still sent: the running klink says first whether it runs this link.
      const credential = readToken(config.status.tokenFile);
      const id = await localLinkId(config);
      const query = new URLSearchParams({ link: config.link.name, ...(id ? { id } : {}), name: positionals[1]!, force: String(flags.has("--force")) });
      // a dry run has its own path: a klink that knows no dry run refuses it instead of acting
      const url = `http://${config.status.host}:${config.status.port}/${action}${flags.has("--dry-run") ? DRY_RUN_PATH : ""}?${query}`;
      let answer: ControlAnswer;
      let unauthorized = false;
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { ...("token" in credential ? { authorization: `Bearer ${credential.token}` } : {}), "user-agent": `klink/${KLINK_VERSION} ${action} (${userInfo().username}@${hostname()}, pid ${process.pid})` },
          signal: AbortSignal.timeout(600_000),
        });
        answer = (await res.json()) as ControlAnswer;
        unauthorized = res.status === 401;
      } catch (err) {
        console.error(`klink ${action}: no klink answers at ${url.split("?")[0]} (${(err as Error).message}); is \`klink run ${positionals[0]}\` running?`);
        return EXIT_RUNTIME;
      }
      if (unauthorized && "error" in credential) answer.message = `klink ${action}: ${credential.error}`;
      if (flags.has("--json")) console.log(JSON.stringify(answer));
      else (answer.ok ? console.log : console.error)(answer.message);
      return answer.ok ? EXIT_OK : EXIT_RUNTIME;
    },
  };
}

export const handoff = controlCommand(
  "handoff", "GROUP", "hand a consumer group over to the target (cutover/manual)",
  `Asks the running klink to hand GROUP over: once its last member has left the source, klink
copies the group's committed offsets to the target (identical, or translated through the offset
map) and lets the members waiting on the target read. Until then they read nothing.

Options:`,
  false,
  true,
);

export const promote = controlCommand(
  "promote", "TOPIC|GLOB", "make the target primary for topics: stop copying and routing them",
  `Asks the running klink to promote the linked topics matching TOPIC|GLOB (* and ? as in a shell):
once everything is copied both ways, their Fetcher and Router stop and the target is primary.
With link.failback: true the target is primary at once and klink keeps copying both ways, so the
source stays a live replica: \`klink failback\` moves clients back, \`klink retire\` ends it.
Refused, with the reason, while a producer still writes to the topic on the source (within the
last 10 s) or a linked group still reads it there.

Options:
  --force     promote even so (records written to the source afterwards are not copied)`,
  true,
  true,
);

export const resume = controlCommand(
  "resume", "TOPIC[:PARTITION]", "start stopped partitions again without restarting klink",
  `Asks the running klink to start the stopped partitions of TOPIC (a name or a glob; all of its
stopped partitions, or only PARTITION) again, as a restart would: from klink's state and the
target's end offset, with the target topic's settings read again (e.g. a raised
max.message.bytes); a partition in translate mode (after dual write began) from its stored
positions in both directions. Fix the cause first (\`klink status\` says what stopped them).

Options:`,
  false,
  false,
);

export const rollback = controlCommand(
  "rollback", "TOPIC|GLOB", "move handed-off groups back to the source (before promote)",
  `Asks the running klink to roll back the linked topics matching TOPIC|GLOB: groups already handed
off are held on the source, and when their last member has left the target their offsets are
translated back to the source, so clients can return to the source without loss.

Options:`,
  false,
  false,
);

export const failback = controlCommand(
  "failback", "TOPIC|GLOB", "move clients back to the source after promote (link.failback)",
  `Asks the running klink to fail back promoted topics matching TOPIC|GLOB whose source klink kept as
a live replica (link.failback: true): their handed-off groups are held on the source, and when
their last member has left the target their offsets are translated back to the source, so
producers and consumers can return to the source without loss or duplicates. The topics become
rolled-back; klink keeps copying both ways, and they can be promoted again.

Options:`,
  false,
  false,
);

export const retire = controlCommand(
  "retire", "TOPIC|GLOB", "end the source replica of promoted topics (link.failback)",
  `Asks the running klink to end the source replica of promoted topics matching TOPIC|GLOB: once
everything is copied both ways, their Fetcher and Router stop for good. Failback is no longer
possible; the topics are promoted, as after a promote without link.failback.

Options:`,
  false,
  false,
);
