/**
 * auth/oauthbearer: SASL/OAUTHBEARER with a token klink gets from a command or a file, whenever
 * librdkafka asks for one (at start and at about 80% of the token's lifetime), through the
 * OAUTHBEARER_TOKEN_REFRESH event: pass `onTokenRefresh` as ClientOptions.onTokenRefresh.
 *
 * The command's output (or the file) is the token itself, or JSON with `access_token` (and
 * `expires_in`, seconds), as OAuth token endpoints answer. A JWT's `exp` and `sub` give the
 * expiry and the principal unless `principal` / `lifetimeSeconds` say otherwise.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { JsonSchema } from "../../src/config/schema.ts";
import type { Auth, Client, OAuthToken, OptionProblem, PluginContext } from "../plugin.ts";
import { saslTlsSchema, saslTransport } from "./sasl.ts";
import { tlsProblems, type TlsOptions } from "./tls.ts";

export const name = "oauthbearer";
export const kind = "auth";

export interface OAuthBearerOptions {
  command?: string;
  file?: string;
  principal?: string;
  lifetimeSeconds: number;
  timeoutSeconds: number;
  tls: boolean | TlsOptions;
}

export const optionsSchema: JsonSchema = {
  description: "SASL/OAUTHBEARER with a token from a command or a file, fetched again before it expires.",
  type: "object",
  additionalProperties: false,
  properties: {
    command: {
      description: "a shell command that prints a token (or a JSON token response); run at start and before each expiry",
      type: "string",
      minLength: 1,
      examples: ["gcloud auth print-access-token", "vault read -field=token kafka/creds/klink"],
    },
    file: { description: "a file holding the token, read again at each refresh (e.g. one a sidecar rotates), relative to migration.yaml", type: "string", minLength: 1, examples: ["/var/run/secrets/kafka/token"] },
    principal: { description: "the principal name sent with the token (default: the JWT's `sub` claim)", type: "string", minLength: 1 },
    lifetimeSeconds: { description: "how long a token lasts when it does not say (no JWT `exp`, no `expires_in`)", type: "integer", minimum: 10, default: 3600 },
    timeoutSeconds: { description: "how long the command may run", type: "integer", minimum: 1, default: 30 },
    tls: saslTlsSchema,
  },
  examples: [{ command: "vault read -field=token kafka/creds/klink", tls: { ca: "/etc/kafka/ca.pem" } }, { file: "/var/run/secrets/kafka/token", principal: "klink" }],
};

export function check(options: OAuthBearerOptions, context: PluginContext): OptionProblem[] {
  const problems = typeof options.tls === "object" ? tlsProblems(options.tls, context, ["tls"]) : [];
  if (!options.command === !options.file) problems.push({ path: [], message: "give exactly one of `command` and `file`: where the token comes from" });
  return problems;
}

export function create(options: OAuthBearerOptions, context: PluginContext): Auth {
  const token = () => fetchToken(options, context);
  return {
    properties: { ...saslTransport(options.tls, context), "sasl.mechanism": "OAUTHBEARER" },
    token,
    onTokenRefresh: answerTokenRefresh(token),
  };
}

/** librdkafka's OAUTHBEARER_TOKEN_REFRESH handler for a token source: answers with its token, or its failure. */
export function answerTokenRefresh(token: () => Promise<OAuthToken>): NonNullable<Auth["onTokenRefresh"]> {
  return (client: Client) => {
    token().then(
      (t) => {
        // the client may have been closed while the token was fetched: its handle is freed
        if (client.isDestroyed) return;
        try {
          client.setOAuthBearerToken(t.token, t.expiresAtMs, t.principal);
        } catch {
          // librdkafka refused it and has been told why (setOAuthBearerToken reports the failure):
          // its error event says so, and it asks again later
        }
      },
      (err: Error) => {
        if (!client.isDestroyed) client.setOAuthBearerTokenFailure(err.message);
      },
    );
  };
}

export async function fetchToken(options: OAuthBearerOptions, context: PluginContext): Promise<OAuthToken> {
  const raw = options.command ? await runCommand(options.command, options.timeoutSeconds ?? 30, context.configDir) : await readFile(resolve(context.configDir, options.file!), "utf8");
  return parseToken(raw.trim(), options, Date.now());
}

async function runCommand(command: string, timeoutSeconds: number, cwd: string): Promise<string> {
  const proc = Bun.spawn(["sh", "-c", command], { cwd, stdout: "pipe", stderr: "pipe", timeout: timeoutSeconds * 1000 });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (proc.signalCode) throw new Error(`token command did not finish within ${timeoutSeconds} s`);
  if (code !== 0) throw new Error(`token command exited with ${code}: ${err.trim().split("\n")[0] ?? ""}`);
  return out;
}

/** The token, its expiry and principal from a command's output or a file's content. */
export function parseToken(raw: string, options: Pick<OAuthBearerOptions, "principal" | "lifetimeSeconds">, now: number): OAuthToken {
  let token = raw;
  let expiresIn: number | undefined;
  if (raw.startsWith("{")) {
    const json = JSON.parse(raw) as { access_token?: string; expires_in?: number };
    if (!json.access_token) throw new Error("token JSON has no access_token");
    token = json.access_token;
    expiresIn = json.expires_in;
  }
  if (!token) throw new Error("the token is empty");
  const claims = jwtClaims(token);
  const principal = options.principal ?? claims?.sub;
  if (!principal) throw new Error("the token names no principal (no JWT `sub`): set the plugin's `principal` option");
  const expiresAtMs = claims?.exp ? claims.exp * 1000 : now + (expiresIn ?? options.lifetimeSeconds ?? 3600) * 1000;
  if (expiresAtMs <= now) throw new Error(`the token expired at ${new Date(expiresAtMs).toISOString()} (${Math.round((now - expiresAtMs) / 1000)} s ago)`);
  return { token, expiresAtMs, principal };
}

function jwtClaims(token: string): { sub?: string; exp?: number } | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    return JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
  } catch {
    return null;
  }
}
