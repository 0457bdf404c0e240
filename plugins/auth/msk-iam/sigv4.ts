/**
 * AWS Signature Version 4: the signing key, a presigned URL (query-string auth, the MSK IAM token)
 * and a signed request (Authorization header, the STS calls). Written from AWS's SigV4 description
 * and matched byte for byte against botocore's SigV4QueryAuth (test/plugins/msk-iam-token.test.ts).
 */
import { createHash, createHmac } from "node:crypto";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When temporary credentials stop working, in ms since the epoch (absent: they do not expire). */
  expiresAtMs?: number;
  /** Where they came from, for messages ("environment", "EC2 instance metadata", ...). */
  source: string;
}

const sha256Hex = (data: string) => createHash("sha256").update(data, "utf8").digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

/** RFC 3986 percent-encoding, everything but A-Z a-z 0-9 - _ . ~ (what SigV4 and botocore use). */
export function awsEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

/** 20240301T123456Z */
export function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

export function signature(secretAccessKey: string, date: string, region: string, service: string, stringToSign: string): string {
  const kDate = hmac(`AWS4${secretAccessKey}`, date.slice(0, 8));
  const kSigning = hmac(hmac(hmac(kDate, region), service), "aws4_request");
  return createHmac("sha256", kSigning).update(stringToSign, "utf8").digest("hex");
}

function stringToSign(date: string, scope: string, canonicalRequest: string): string {
  return ["AWS4-HMAC-SHA256", date, scope, sha256Hex(canonicalRequest)].join("\n");
}

const canonicalQuery = (pairs: Array<[string, string]>) =>
  pairs.map(([k, v]) => `${awsEncode(k)}=${awsEncode(v)}`).sort().join("&");

/**
 * A presigned GET of `url` (path "/", query `params` first, then the auth parameters in botocore's
 * order, then X-Amz-Signature): only `host` is signed, the payload is the empty body's hash.
 */
export function presignUrl(url: URL, params: Array<[string, string]>, c: AwsCredentials, region: string, service: string, expiresSeconds: number, nowMs: number): string {
  const date = amzDate(nowMs);
  const scope = `${date.slice(0, 8)}/${region}/${service}/aws4_request`;
  const auth: Array<[string, string]> = [
    ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
    ["X-Amz-Credential", `${c.accessKeyId}/${scope}`],
    ["X-Amz-Date", date],
    ["X-Amz-Expires", String(expiresSeconds)],
    ["X-Amz-SignedHeaders", "host"],
  ];
  if (c.sessionToken !== undefined) auth.push(["X-Amz-Security-Token", c.sessionToken]);
  const all = [...params, ...auth];
  const canonicalRequest = ["GET", url.pathname, canonicalQuery(all), `host:${url.host}\n`, "host", sha256Hex("")].join("\n");
  const sig = signature(c.secretAccessKey, date, region, service, stringToSign(date, scope, canonicalRequest));
  const query = all.map(([k, v]) => `${awsEncode(k)}=${awsEncode(v)}`).join("&");
  return `${url.protocol}//${url.host}${url.pathname}?${query}&X-Amz-Signature=${sig}`;
}

/**
 * The headers that sign a request with a body (x-amz-date, x-amz-security-token, authorization):
 * host, content-type and the x-amz-* headers are signed, with the body's hash.
 */
export function signedHeaders(method: string, url: URL, headers: Record<string, string>, body: string, c: AwsCredentials, region: string, service: string, nowMs: number): Record<string, string> {
  const date = amzDate(nowMs);
  const scope = `${date.slice(0, 8)}/${region}/${service}/aws4_request`;
  const all: Record<string, string> = { ...lowerKeys(headers), host: url.host, "x-amz-date": date };
  if (c.sessionToken !== undefined) all["x-amz-security-token"] = c.sessionToken;
  const names = Object.keys(all).sort();
  const canonicalHeaders = names.map((n) => `${n}:${all[n]!.trim().replace(/\s+/g, " ")}\n`).join("");
  const query = [...url.searchParams.entries()] as Array<[string, string]>;
  const canonicalRequest = [method, url.pathname || "/", canonicalQuery(query), canonicalHeaders, names.join(";"), sha256Hex(body)].join("\n");
  const sig = signature(c.secretAccessKey, date, region, service, stringToSign(date, scope, canonicalRequest));
  const { host: _host, ...rest } = all;
  return { ...rest, authorization: `AWS4-HMAC-SHA256 Credential=${c.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${sig}` };
}

const lowerKeys = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
