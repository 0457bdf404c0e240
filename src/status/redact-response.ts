/**
 * Answers of the status endpoint without the config's secrets: a link name or client id from
 * ${env:}/${file:} shows up in GET /status, in errors of stopped partitions, in control answers.
 * The body's text is redacted as a whole (Secrets knows the JSON-escaped forms too).
 */
import type { Secrets } from "../config/secrets.ts";

export function redacting<A extends unknown[]>(secrets: Secrets, answer: (...args: A) => Promise<Response>): (...args: A) => Promise<Response> {
  return async (...args) => {
    const res = await answer(...args);
    if (secrets.size === 0 || !res.body) return res;
    const text = await res.text();
    const headers = new Headers(res.headers);
    headers.delete("content-length");
    return new Response(secrets.redact(text), { status: res.status, statusText: res.statusText, headers });
  };
}
