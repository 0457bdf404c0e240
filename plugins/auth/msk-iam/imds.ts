/**
 * The EC2 instance metadata service (IMDSv2): a session token (PUT /latest/api/token), then the
 * instance role's name and its temporary credentials. The endpoint is AWS_EC2_METADATA_SERVICE_ENDPOINT
 * or http://169.254.169.254; each request waits AWS_METADATA_SERVICE_TIMEOUT seconds (default 1),
 * as the AWS SDKs do, so that klink off EC2 does not hang on it.
 */
import type { AwsCredentials } from "./sigv4.ts";

export const DEFAULT_IMDS_ENDPOINT = "http://169.254.169.254";

export class ImdsError extends Error {}

export async function imdsCredentials(endpoint: string, timeoutSeconds: number): Promise<AwsCredentials> {
  const base = endpoint.replace(/\/+$/, "");
  const call = async (method: string, path: string, headers: Record<string, string>): Promise<string> => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, { method, headers, signal: AbortSignal.timeout(timeoutSeconds * 1000) });
    } catch (err) {
      throw new ImdsError((err as Error).name === "TimeoutError" ? `no answer within ${timeoutSeconds} s` : (err as Error).message);
    }
    const text = await res.text();
    if (!res.ok) throw new ImdsError(`${method} ${path}: HTTP ${res.status}${res.status === 404 ? " (no instance role attached?)" : ""}`);
    return text;
  };
  const token = await call("PUT", "/latest/api/token", { "x-aws-ec2-metadata-token-ttl-seconds": "21600" });
  const auth = { "x-aws-ec2-metadata-token": token };
  const role = (await call("GET", "/latest/meta-data/iam/security-credentials/", auth)).split("\n")[0]!.trim();
  if (!role) throw new ImdsError("no instance role attached (the role list is empty)");
  const body = await call("GET", `/latest/meta-data/iam/security-credentials/${encodeURIComponent(role)}`, auth);
  let c: { Code?: string; Message?: string; AccessKeyId?: string; SecretAccessKey?: string; Token?: string; Expiration?: string };
  try {
    c = JSON.parse(body);
  } catch {
    throw new ImdsError(`the credentials of role ${role} are not JSON`);
  }
  if (c.Code && c.Code !== "Success") throw new ImdsError(`role ${role}: ${c.Code}${c.Message ? `: ${c.Message}` : ""}`);
  if (!c.AccessKeyId || !c.SecretAccessKey || !c.Token || !c.Expiration) throw new ImdsError(`the credentials of role ${role} lack AccessKeyId, SecretAccessKey, Token or Expiration`);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.Token, expiresAtMs: Date.parse(c.Expiration), source: `EC2 instance metadata (role ${role})` };
}
