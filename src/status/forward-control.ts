/**
 * link.standby: a command (`klink handoff`, `promote`, `rollback`, `resume`, `failback`,
 * `retire`) sent to a klink that does not run the link is forwarded to the one that does, and its
 * answer comes back (docs/workers.md, "Commands at any worker").
 *
 * Each klink checks the operator's token itself (its own status.tokenFile). Between workers the
 * credential is a forward key: the runner makes a new random one when it takes the link and keeps
 * it in the link's state (storage: kafka), where only klink's principal reads; a standby reads it
 * from there and sends it as the bearer token, which the runner accepts besides its own token.
 * A new runner makes a new key, so a key read from an earlier runner's state is refused.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { MigrationConfig } from "../config/types.ts";
import type { Control, ControlAnswer, ControlRequest } from "./control-types.ts";
import { DRY_RUN_PATH } from "./control-endpoint.ts";
import { KLINK_VERSION } from "../version.ts";
import { runsLink, type Roster } from "../workers/worker-roster.ts";

/** The state key of the runner's forward key. */
export const FORWARD_KEY = "control.forwardKey";

/** How long a forwarded command may take (a promote waits until its topics are drained). */
const FORWARD_TIMEOUT_MS = 600_000;

export function newForwardKey(): string {
  return randomBytes(32).toString("base64url");
}

/** Where the other workers reach this klink's status endpoint (listening on every address: by the host's name). */
export function statusAddress(status: MigrationConfig["status"]): string {
  const everywhere = status.host === "0.0.0.0" || status.host === "[::]";
  return `http://${everywhere ? hostname() : status.host}:${status.port}`;
}

/**
 * The control of a klink that does not run the link: each request goes to the worker that runs
 * it (as the worker group's coordinator last said), with the forward key read from the state.
 */
export function forwardingControl(o: { linkName: string; roster: () => Roster | null; forwardKey: () => Promise<string | null> }): Control {
  return async (request: ControlRequest): Promise<ControlAnswer> => {
    const runner = o.roster()?.workers.find(runsLink);
    if (!runner?.status) {
      return { ok: false, message: `this klink (pid ${process.pid}) stands by and no klink runs link '${o.linkName}' now (its worker group is rebalancing): nothing was done; try again in a moment` };
    }
    const by = `the klink that runs the link (pid ${runner.pid} on host ${runner.host}, ${runner.status})`;
    const key = await o.forwardKey().catch((err) => {
      throw new Error(`this klink stands by and cannot read the forward key from the link's state (${(err as Error).message}): nothing was done; send the command to ${by}`);
    });
    if (!key) return { ok: false, message: `${by} has not published a forward key (an older klink, or still starting): nothing was done; send the command there` };
    const query = new URLSearchParams({ link: o.linkName, name: request.name, force: String(request.force) });
    const url = `${runner.status}/${request.action}${request.dryRun ? DRY_RUN_PATH : ""}?${query}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "user-agent": `klink/${KLINK_VERSION} forwarding from the standby pid ${process.pid} on host ${hostname()}` },
        signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
      });
    } catch (err) {
      return { ok: false, message: `this klink stands by and cannot reach ${by} (${(err as Error).message}): nothing was done; give every worker a status.listen the others reach, or send the command there` };
    }
    const answer = (await res.json().catch(() => null)) as ControlAnswer | null;
    if (!answer || typeof answer.message !== "string") return { ok: false, message: `${by} gave no klink answer (HTTP ${res.status}): nothing was done` };
    if (res.status === 401) return { ok: false, message: `${by} refused the forward key (it took the link moments ago?): nothing was done; try again` };
    return { ok: answer.ok, message: `${answer.message} (answered by ${by})` };
  };
}
