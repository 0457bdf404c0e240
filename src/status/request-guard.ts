/**
 * What every request to the status endpoint must be before klink looks at it: addressed to this
 * listener by name (the Host header; a page whose DNS name was rebound to this host's address
 * sends its own name, and is refused), and of bounded size. Control requests must also come from
 * no other web origin and carry the control token (control-endpoint.ts).
 */
import { hostname, networkInterfaces } from "node:os";
import type { MigrationConfig } from "../config/types.ts";

/** Longest query string accepted (names and globs are far shorter). */
export const MAX_QUERY_LENGTH = 2_048;
/** Largest request body accepted (no endpoint reads one). */
export const MAX_BODY_BYTES = 16 * 1024;

/** The `Host` header values that name this listener, lowercased: `name:port` (and `name` alone on port 80). */
export function listenerHosts(status: MigrationConfig["status"]): Set<string> {
  const names = new Set(["localhost", "127.0.0.1", "[::1]", status.host, ...status.hostNames]);
  if (status.host === "0.0.0.0" || status.host === "[::]") {
    // Listening on every address: the host's own name and addresses reach it too.
    names.add(hostname());
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) names.add(a.family === "IPv6" ? `[${a.address.replace(/%.*$/, "")}]` : a.address);
    }
  }
  const hosts = new Set<string>();
  for (const name of names) {
    hosts.add(`${name.toLowerCase()}:${status.port}`);
    if (status.port === 80) hosts.add(name.toLowerCase());
  }
  return hosts;
}

export function refusal(status: number, message: string, headers: Record<string, string> = {}): Response {
  return Response.json({ ok: false, message }, { status, headers });
}

/** A response refusing `req` before any endpoint sees it, or null. */
export function refuseRequest(req: Request, url: URL, hosts: Set<string>): Response | null {
  const host = (req.headers.get("host") ?? "").toLowerCase();
  if (!hosts.has(host)) {
    return refusal(421, `this klink does not answer to Host '${host.slice(0, 100)}': use the address in status.listen (or add the name to status.hostNames)`);
  }
  if (url.search.length > MAX_QUERY_LENGTH) return refusal(414, `the query is longer than ${MAX_QUERY_LENGTH} characters`);
  return null;
}

/** Who sent `req`, for the log: the peer's address and its User-Agent (shortened, control characters removed). */
export function requester(address: { address: string; port: number } | null, req: Request): string {
  const agent = (req.headers.get("user-agent") ?? "no user agent").replace(/[\x00-\x1f\x7f]/g, "?").slice(0, 200);
  return `${address ? `${address.address}:${address.port}` : "an unknown address"} (${agent})`;
}
