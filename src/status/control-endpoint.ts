/**
 * POST /handoff, /promote, /rollback, /resume, /failback, /retire: the operator's commands to the running klink. Each
 * must come from no other web origin (a page in a browser on this host sends its Origin), carry
 * the control token (`Authorization: Bearer`, which also makes it a request no page can send
 * without a CORS preflight klink never grants; under link.standby the forward key of a standby
 * passing the command on stands for it), name the link, and give a bounded name or glob.
 * Every attempt, done or refused, is logged with who asked.
 */
import { MAX_NAME_LENGTH } from "../config/glob.ts";
import { otherLink } from "./identity.ts";
import { refusal, requester } from "./request-guard.ts";
import { sameToken } from "./token.ts";
import type { Control, ControlRequest } from "./control-types.ts";
import type { LinkIdentity } from "./identity.ts";

export const CONTROL_ACTIONS: ReadonlyArray<ControlRequest["action"]> = ["handoff", "promote", "rollback", "resume", "failback", "retire"];

/** Longest consumer group id accepted (Kafka sets no limit; topics and globs get MAX_NAME_LENGTH). */
const MAX_GROUP_LENGTH = 1_024;
/** A topic name (Kafka's characters) or a glob of them (with * and ?); resume takes :PARTITION after it. */
const TOPIC_OR_GLOB = /^[A-Za-z0-9._*?-]+$/;
const WITH_PARTITION = /^[A-Za-z0-9._*?-]+(:\d{1,6})?$/;

/** POST /promote/dry-run, /handoff/dry-run: what the command would do now; nothing changes. */
export const DRY_RUN_PATH = "/dry-run";
const DRY_RUN_ACTIONS: ReadonlyArray<ControlRequest["action"]> = ["handoff", "promote"];

export function isControlAction(action: string): action is ControlRequest["action"] {
  return (CONTROL_ACTIONS as string[]).includes(action);
}

/** The control request a path names ("promote", "promote/dry-run"), or null. */
export function controlPath(pathname: string): { action: ControlRequest["action"]; dryRun: boolean } | null {
  const dryRun = pathname.endsWith(DRY_RUN_PATH);
  const action = pathname.slice(1, dryRun ? -DRY_RUN_PATH.length : undefined);
  if (!isControlAction(action) || (dryRun && !DRY_RUN_ACTIONS.includes(action))) return null;
  return { action, dryRun };
}

export interface ControlContext {
  me: LinkIdentity;
  /** null until `klink run` has written it. */
  token: string | null;
  /** link.standby: the key the other workers forward commands with (src/status/forward-control.ts); null otherwise. */
  forwardKey: string | null;
  control: Control | null;
  peer: { address: string; port: number } | null;
  /** Lifts the listener's idle timeout for this request: a promote waits until the topic is drained. */
  holdOpen: () => void;
  log: (line: string) => void;
}

export async function controlEndpoint(req: Request, url: URL, { action, dryRun }: { action: ControlRequest["action"]; dryRun: boolean }, c: ControlContext): Promise<Response> {
  const who = requester(c.peer, req);
  const refuse = (status: number, message: string, headers?: Record<string, string>) => {
    c.log(`control: refused ${req.method} /${action} from ${who}: ${message}`);
    return refusal(status, message, headers);
  };
  if (req.method !== "POST") return refuse(405, `/${action} takes POST`, { allow: "POST" });
  const crossSite = crossSiteReason(req);
  if (crossSite) return refuse(403, crossSite);
  // Which link the request is for is checked first: the link's name and id are public (GET /status).
  const q = url.searchParams;
  const link = q.get("link");
  if (!link) {
    return refuse(400, `the request names no link (link=), so klink (link '${c.me.link}') did nothing: use a klink CLI of this version, or add link=${c.me.link}`);
  }
  const name = q.get("name") ?? "";
  const bad = badName(action, name);
  if (bad) return refuse(400, bad);
  const other = otherLink(c.me, { link, id: q.get("id") }, url.host, "the request");
  if (other) return refuse(409, other);
  if (!c.token) return refuse(503, "klink is still starting; try again in a moment");
  const bearer = /^Bearer (\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
  if (!bearer) return refuse(401, "no control token: send Authorization: Bearer <the token in status.tokenFile> (the klink CLI does)", { "www-authenticate": "Bearer" });
  const forwarded = c.forwardKey !== null && sameToken(bearer, c.forwardKey);
  if (!forwarded && !sameToken(bearer, c.token)) return refuse(401, "wrong control token: klink run writes a new one at every start into status.tokenFile", { "www-authenticate": "Bearer" });
  if (!c.control) return refuse(503, "klink is still starting; try again in a moment");
  const request: ControlRequest = { action, name, force: q.get("force") === "true", dryRun };
  c.holdOpen();
  const flags = `${request.force ? " --force" : ""}${dryRun ? " --dry-run" : ""}`;
  c.log(`control: ${action} ${JSON.stringify(name)}${flags} asked by ${who}`);
  const answer = await c.control(request).catch((err) => ({ ok: false, message: (err as Error).message }));
  c.log(`control: ${action} ${JSON.stringify(name)}${flags}: ${answer.ok ? "done" : "refused"}: ${answer.message.replace(/\n/g, "; ")}`);
  return Response.json(answer, { status: answer.ok ? 200 : 409 });
}

/** Why `req` looks like a browser's request from another site (null: it does not). */
function crossSiteReason(req: Request): string | null {
  const origin = req.headers.get("origin");
  const own = `http://${req.headers.get("host")}`.toLowerCase();
  if (origin !== null && origin.toLowerCase() !== own) return `a cross-site request (Origin ${origin.slice(0, 100)}) cannot control klink`;
  const site = req.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") return `a cross-site request (Sec-Fetch-Site ${site.slice(0, 20)}) cannot control klink`;
  return null;
}

function badName(action: ControlRequest["action"], name: string): string | null {
  if (!name) return `give the ${action === "handoff" ? "group" : "topic"} (name=)`;
  if (action === "handoff") return name.length > MAX_GROUP_LENGTH ? `a group id longer than ${MAX_GROUP_LENGTH} characters` : null;
  if (name.split(":")[0]!.length > MAX_NAME_LENGTH) return `a topic name or glob longer than ${MAX_NAME_LENGTH} characters (Kafka's limit for topic names)`;
  if (!(action === "resume" ? WITH_PARTITION : TOPIC_OR_GLOB).test(name)) {
    return `'${name.slice(0, 100).replace(/[\x00-\x1f\x7f]/g, "?")}' is not a topic name or glob (letters, digits, '.', '_', '-', with * and ?${action === "resume" ? ", then :PARTITION if you like" : ""})`;
  }
  return null;
}
