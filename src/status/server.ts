/**
 * The status endpoint of a running klink (`status.listen`, loopback by default): GET /status →
 * JSON, with the link name and link id of the instance; POST /handoff|/promote|/rollback for the
 * operator's commands, which must name the link (`link=`, and `id=` when the caller knows it).
 */
import { hostname } from "node:os";
import type { MigrationConfig } from "../config/types.ts";
import { otherLink, type LinkIdentity } from "./identity.ts";

/** An operator's command to the running instance (`klink handoff`, `promote`, `rollback`). */
export interface ControlRequest {
  action: "handoff" | "promote" | "rollback";
  /** A group id, or a topic name or glob. */
  name: string;
  force: boolean;
}

export interface ControlAnswer {
  ok: boolean;
  message: string;
}

export type Control = (request: ControlRequest) => Promise<ControlAnswer>;

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
  /** Progress ({partitions, groups}); null while klink is starting (GET /status answers 503). */
  snapshot: () => object | null;
  /** null while klink is starting. */
  control: () => Control | null;
  /** GET /metrics (Prometheus text format). */
  metrics: () => Response;
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
  try {
    return Bun.serve({
      hostname: config.status.host,
      port: config.status.port,
      async fetch(req) {
        const url = new URL(req.url);
        if (url.pathname === "/status") {
          const snapshot = from.snapshot();
          return Response.json({ ...identity(), ...(snapshot ?? { starting: true }) }, { status: snapshot ? 200 : 503 });
        }
        if (url.pathname === "/metrics") return from.metrics();
        const action = url.pathname.slice(1);
        if (req.method === "POST" && (action === "handoff" || action === "promote" || action === "rollback")) {
          const answer = await controlAnswer(url, action, identity(), from.control());
          return Response.json(answer, { status: answer.ok ? 200 : 409 });
        }
        return new Response("klink: GET /status|/metrics, POST /handoff|/promote|/rollback?link=LINK&name=...\n", { status: 404 });
      },
    });
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code !== "EADDRINUSE") throw new StatusServerError(`status endpoint ${config.status.listen} cannot listen: ${e.message}; set another status.listen`);
    const holder = await whoAnswers(config);
    if (holder?.link === config.link.name) {
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

async function controlAnswer(url: URL, action: ControlRequest["action"], me: StatusIdentity, control: Control | null): Promise<ControlAnswer> {
  const link = url.searchParams.get("link");
  if (!link) {
    return { ok: false, message: `the request names no link (link=), so klink (link '${me.link}') did nothing: use a klink CLI of this version, or add link=${me.link}` };
  }
  const other = otherLink(me, { link, id: url.searchParams.get("id") }, `${url.host}`, "the request");
  if (other) return { ok: false, message: other };
  if (!control) return { ok: false, message: "klink is still starting; try again in a moment" };
  const request = { action, name: url.searchParams.get("name") ?? "", force: url.searchParams.get("force") === "true" };
  return control(request).catch((err) => ({ ok: false, message: (err as Error).message }));
}
