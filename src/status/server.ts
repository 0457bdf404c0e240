/** The status endpoint of a running klink (`status.listen`, loopback by default): GET /status → JSON. */
import type { MigrationConfig } from "../config/types.ts";

export function startStatusServer(config: MigrationConfig, snapshot: () => unknown): ReturnType<typeof Bun.serve> | null {
  try {
    return Bun.serve({
      hostname: config.status.host,
      port: config.status.port,
      fetch(req) {
        const url = new URL(req.url);
        if (url.pathname === "/status") return Response.json(snapshot());
        return new Response("klink: GET /status\n", { status: 404 });
      },
    });
  } catch (err) {
    console.error(`klink: status endpoint ${config.status.listen} not started: ${(err as Error).message}`);
    return null;
  }
}
