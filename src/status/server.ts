/** The status endpoint of a running klink (`status.listen`, loopback by default): GET /status → JSON. */
import type { MigrationConfig } from "../config/types.ts";

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

export function startStatusServer(config: MigrationConfig, snapshot: () => unknown, control?: Control): ReturnType<typeof Bun.serve> | null {
  try {
    return Bun.serve({
      hostname: config.status.host,
      port: config.status.port,
      async fetch(req) {
        const url = new URL(req.url);
        if (url.pathname === "/status") return Response.json(snapshot());
        const action = url.pathname.slice(1);
        if (req.method === "POST" && control && (action === "handoff" || action === "promote" || action === "rollback")) {
          const name = url.searchParams.get("name") ?? "";
          const answer = await control({ action, name, force: url.searchParams.get("force") === "true" }).catch((err) => ({ ok: false, message: (err as Error).message }));
          return Response.json(answer, { status: answer.ok ? 200 : 409 });
        }
        return new Response("klink: GET /status, POST /handoff|/promote|/rollback?name=...\n", { status: 404 });
      },
    });
  } catch (err) {
    console.error(`klink: status endpoint ${config.status.listen} not started: ${(err as Error).message}`);
    return null;
  }
}
