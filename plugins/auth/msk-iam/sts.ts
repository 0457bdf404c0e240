/**
 * AWS STS, the two calls that give temporary credentials: AssumeRole (signed with the caller's
 * credentials) and AssumeRoleWithWebIdentity (unsigned: the web identity token is the proof, as
 * on EKS). Query API over HTTPS POST; the answer is XML.
 */
import { signedHeaders, type AwsCredentials } from "./sigv4.ts";

const TIMEOUT_MS = 10_000;

/** The regional STS endpoint, or the override (the plugin's `stsEndpoint`, AWS_ENDPOINT_URL_STS). */
export function stsEndpoint(region: string, override: string | undefined): string {
  if (override) return override;
  return `https://sts.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`;
}

export interface AssumeRole {
  endpoint: string;
  region: string;
  roleArn: string;
  sessionName: string;
  now: number;
}

export async function assumeRole(source: AwsCredentials, a: AssumeRole): Promise<AwsCredentials> {
  const body = form({ Action: "AssumeRole", Version: "2011-06-15", RoleArn: a.roleArn, RoleSessionName: a.sessionName });
  const url = new URL(a.endpoint);
  const headers = signedHeaders("POST", url, { "content-type": FORM }, body, source, a.region, "sts", a.now);
  const what = `STS AssumeRole of ${a.roleArn} at ${a.endpoint} (with the credentials from ${source.source})`;
  return credentialsFrom(await post(url, headers, body, what), what, `role ${a.roleArn} (STS AssumeRole)`);
}

export interface AssumeRoleWithWebIdentity {
  endpoint: string;
  roleArn: string;
  sessionName: string;
  webIdentityToken: string;
  tokenFile: string;
}

export async function assumeRoleWithWebIdentity(a: AssumeRoleWithWebIdentity): Promise<AwsCredentials> {
  const body = form({ Action: "AssumeRoleWithWebIdentity", Version: "2011-06-15", RoleArn: a.roleArn, RoleSessionName: a.sessionName, WebIdentityToken: a.webIdentityToken });
  const what = `STS AssumeRoleWithWebIdentity of ${a.roleArn} at ${a.endpoint} (token from ${a.tokenFile})`;
  return credentialsFrom(await post(new URL(a.endpoint), { "content-type": FORM }, body, what), what, `web identity (role ${a.roleArn})`);
}

const FORM = "application/x-www-form-urlencoded; charset=utf-8";
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

async function post(url: URL, headers: Record<string, string>, body: string, what: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    const reason = (err as Error).name === "TimeoutError" ? `no answer within ${TIMEOUT_MS / 1000} s` : (err as Error).message;
    throw new Error(`${what} failed: ${reason}`);
  }
  const text = await res.text();
  if (!res.ok) {
    const code = tag(text, "Code");
    const message = tag(text, "Message");
    const hint = code === "ExpiredToken" ? ": the session token of the calling credentials has expired; renew them" : "";
    throw new Error(`${what} failed: HTTP ${res.status}${code ? ` ${code}` : ""}${message ? `: ${message}` : ""}${hint}`);
  }
  return text;
}

function credentialsFrom(xml: string, what: string, source: string): AwsCredentials {
  const accessKeyId = tag(xml, "AccessKeyId");
  const secretAccessKey = tag(xml, "SecretAccessKey");
  const sessionToken = tag(xml, "SessionToken");
  const expiration = tag(xml, "Expiration");
  if (!accessKeyId || !secretAccessKey || !sessionToken || !expiration || Number.isNaN(Date.parse(expiration))) {
    throw new Error(`${what}: the answer holds no credentials (AccessKeyId, SecretAccessKey, SessionToken, Expiration)`);
  }
  return { accessKeyId, secretAccessKey, sessionToken, expiresAtMs: Date.parse(expiration), source };
}

/** The text of the first <name> element (STS answers are flat enough for this). */
function tag(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return m ? unescapeXml(m[1]!.trim()) : undefined;
}

const unescapeXml = (s: string) => s.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[e]!);
