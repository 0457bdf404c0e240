/**
 * GET /dashboard (and /): one static page that polls GET /status?history of the same klink and
 * shows topics, partitions with lag and mode, groups and a lag chart. Read-only like /status: no
 * token; the request guard (Host header) applies as to every request. The page loads nothing
 * else, and may not be framed by another site.
 */
import html from "./dashboard.html" with { type: "text" };

// Bun's types call every .html import an HTMLBundle; with type "text" it is the file's text.
const page = html as unknown as string;

const HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

export function dashboard(): Response {
  return new Response(page, { headers: HEADERS });
}
