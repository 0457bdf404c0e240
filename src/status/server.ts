/**
 * The status endpoint of a running klink (`status.listen`, loopback by default). Read-only:
 * GET /status → JSON, with the link name and link id of the instance; GET /healthz, /readyz;
 * GET /dashboard, a page over /status (dashboard.ts).
 * Control: POST /handoff|/promote|/rollback|/resume|/failback|/retire, the operator's commands, which need the
 * control token and must name the link (control-endpoint.ts). Every request must name this
 * listener in its Host header (request-guard.ts).
 */
import { hostname } from "node:os";
import type { Server } from "bun";
import type { MigrationConfig } from "../config/types.ts";
import type { LinkIdentity } from "./identity.ts";
import { controlEndpoint, controlPath } from "./control-endpoint.ts";
import { healthz, readyz } from "./health.ts";
import { dashboard } from "./dashboard.ts";
import { listenerHosts, MAX_BODY_BYTES, refuseRequest, refusal } from "./request-guard.ts";
import type { Control } from "./control-types.ts";
import { redacting } from "./redact-response.ts";
import type { Roster } from "../workers/worker-roster.ts";

export type { Control, ControlAnswer, ControlRequest } from "./control-types.ts";

/** What GET /status says besides the progress: who answers. */
export interface StatusIdentity extends LinkIdentity {
  pid: number;
  host: string;
  /** Where the state is (Store.location); null while klink is starting. */
  state: string | null;
}

export interface StatusSource {
  /** The link id and state location, once the state is open (null until then). */
  opened: () => { id: string; state: string } | null;
  /** Progress ({partitions, topics, groups}, status-view.ts); null while klink is starting (GET /status answers 503). */
  snapshot: (history?: boolean) => object | null;
  /** What klink waits for while it starts. */
  phase?: () => string;
  /** link.standby: the link's worker group as its coordinator last described it (null otherwise). */
  workers?: () => Roster | null;
  /** null while klink is starting. */
  control: () => Control | null;
  /** GET /metrics (Prometheus text format). */
  metrics: () => Response;
  /** The control token requests must carry; null until `klink run` has written it. */
  token: () => string | null;
  /** link.standby, once this klink runs the link: the key standbys forward commands with. */
  forwardKey?: () => string | null;
  /** Logs control requests and who sent them. */
  log: (line: string) => void;
}

/** The status endpoint cannot listen (the message says why and what to do). */
export class StatusServerError extends Error {
  override name = "StatusServerError";
}

/** Binds status.listen; throws StatusServerError, saying what to do, if it cannot (klink run must not go on without it). */
export async function startStatusServer(config: MigrationConfig, from: StatusSource): Promise<ReturnType<typeof Bun.serve>> {
  const identity = (): StatusIdentity => {
    const opened = from.opened();
    return { link: config.link.name, id: opened?.id ?? null, pid: process.pid, host: hostname(), state: opened?.state ?? null };
  };
  const hosts = listenerHosts(config.status);
  try {
    return Bun.serve({
      hostname: config.status.host,
      port: config.status.port,
      maxRequestBodySize: MAX_BODY_BYTES,
      fetch: redacting(config.secrets, async (req: Request, server: Server<undefined>) => {
        const url = new URL(req.url);
        const refused = refuseRequest(req, url, hosts);
        if (refused) return refused;
        const action = controlPath(url.pathname);
        if (action) {
          return controlEndpoint(req, url, action, { me: identity(), token: from.token(), forwardKey: from.forwardKey?.() ?? null, control: from.control(), peer: server.requestIP(req), holdOpen: () => server.timeout(req, 0), log: from.log });
        }
        if (req.method !== "GET" && req.method !== "HEAD") return refusal(405, `${url.pathname} takes GET`, { allow: "GET, HEAD" });
        if (url.pathname === "/status") {
          const snapshot = from.snapshot(url.searchParams.has("history"));
          const workers = from.workers?.() ?? null;
          return Response.json(
            { ...identity(), ...(snapshot ?? { starting: true, phase: from.phase?.() ?? "starting" }), ...(workers ? { workers } : {}) },
            { status: snapshot ? 200 : 503 },
          );
        }
        if (url.pathname === "/metrics") return from.metrics();
        if (url.pathname === "/healthz") return healthz();
        if (url.pathname === "/dashboard" || url.pathname === "/") return dashboard();
        if (url.pathname === "/readyz") return readyz(from.snapshot(), from.phase?.());
        return new Response("klink: GET /dashboard|/status|/metrics|/healthz|/readyz, POST /handoff|/promote|/rollback|/resume|/failback|/retire?link=LINK&name=... (with the control token)\n", { status: 404 });
      }),
    });
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code !== "EADDRINUSE") throw new StatusServerError(`status endpoint ${config.status.listen} cannot listen: ${e.message}; set another status.listen`);
    const holder = await whoAnswers(config);
    if (holder?.link === config.secrets.redact(config.link.name)) { // it answers redacted
      throw new StatusServerError(
        `klink run of link '${holder.link}' is already running (pid ${holder.pid} on host ${holder.host}${holder.state ? `, state ${holder.state}` : ""}), ` +
          `it answers at ${config.status.listen}: one instance per link; stop it first, or ask it with klink status`,
      );
    }
    const who = holder ? `klink of link '${holder.link}' (pid ${holder.pid})` : "another program";
    throw new StatusServerError(`status endpoint ${config.status.listen} cannot listen: the address is in use by ${who}; stop it or set another status.listen`);
  }
}

/** Who answers GET /status at status.listen, if it is a klink. */
async function whoAnswers(config: MigrationConfig): Promise<StatusIdentity | null> {
  try {
    const res = await fetch(`http://${config.status.host}:${config.status.port}/status`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as Partial<StatusIdentity>;
    return typeof body.link === "string" && typeof body.pid === "number" ? (body as StatusIdentity) : null;
  } catch {
    return null;
  }
}
