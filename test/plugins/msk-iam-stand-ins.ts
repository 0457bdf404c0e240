/**
 * Stand-ins for the AWS services the msk-iam plugin calls, as small local HTTP servers: STS
 * (AssumeRole, AssumeRoleWithWebIdentity) and the EC2 instance metadata service (IMDSv2). They
 * record what they receive; the STS stand-in checks each AssumeRole signature against botocore's.
 */
import { runReference } from "./msk-iam-reference.ts";

export interface Received {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What the STS stand-in answers: credentials (valid until `expiration`), or an error. */
export type StsAnswer = { credentials: Keys & { sessionToken: string }; expiration: Date } | { status: number; code: string; message: string };

/** STS stand-in. `callerKeys` are the credentials AssumeRole must be signed with (checked with botocore). */
export function stsStandIn(answer: () => StsAnswer, callerKeys?: Keys, region = "eu-west-1") {
  const received: Array<Received & { signatureOk?: boolean }> = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const r: Received & { signatureOk?: boolean } = { method: req.method, url: req.url, headers: Object.fromEntries(req.headers), body: await req.text() };
      received.push(r);
      if (new URLSearchParams(r.body).get("Action") === "AssumeRole") {
        r.signatureOk = callerKeys ? await botocoreAgrees(r, callerKeys, region, "sts") : false;
        if (!r.signatureOk) return xmlError(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.");
      }
      const a = answer();
      if ("status" in a) return xmlError(a.status, a.code, a.message);
      const action = new URLSearchParams(r.body).get("Action");
      return new Response(
        `<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><${action}Result><Credentials>` +
          `<AccessKeyId>${a.credentials.accessKeyId}</AccessKeyId><SecretAccessKey>${a.credentials.secretAccessKey}</SecretAccessKey>` +
          `<SessionToken>${a.credentials.sessionToken}</SessionToken><Expiration>${a.expiration.toISOString()}</Expiration>` +
          `</Credentials></${action}Result></${action}Response>`,
        { headers: { "content-type": "text/xml" } },
      );
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, received, stop: () => server.stop(true) };
}

const xmlError = (status: number, code: string, message: string) =>
  new Response(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>1</RequestId></ErrorResponse>`, { status, headers: { "content-type": "text/xml" } });

/** Does botocore's SigV4, given the headers the request says it signed, compute the same Authorization header? */
async function botocoreAgrees(r: Received, keys: Keys, region: string, service: string): Promise<boolean> {
  const signed = /SignedHeaders=([^,]+)/.exec(r.headers.authorization ?? "")?.[1]?.split(";") ?? [];
  const headers = Object.fromEntries(signed.filter((h) => !["host", "x-amz-date", "x-amz-security-token"].includes(h)).map((h) => [h, r.headers[h] ?? ""]));
  const { authorization } = await runReference<{ authorization: string }>("msk-iam-sigv4-reference.py", {
    method: r.method, url: r.url, headers, body: r.body, ...keys, region, service, amzDate: r.headers["x-amz-date"],
  });
  return authorization === r.headers.authorization && r.headers["x-amz-security-token"] === keys.sessionToken;
}

/** IMDSv2 stand-in: a session token by PUT, then the role and its credentials only with that token. */
export function imdsStandIn(role: string, credentials: () => Keys & { sessionToken: string; expiration: Date }) {
  const received: Received[] = [];
  const sessionToken = `imds-session-${Math.random()}`;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const path = new URL(req.url).pathname;
      received.push({ method: req.method, url: path, headers: Object.fromEntries(req.headers), body: await req.text() });
      if (path === "/latest/api/token") {
        return req.method === "PUT" && req.headers.get("x-aws-ec2-metadata-token-ttl-seconds") ? new Response(sessionToken) : new Response("", { status: 400 });
      }
      if (req.headers.get("x-aws-ec2-metadata-token") !== sessionToken) return new Response("", { status: 401 });
      if (path === "/latest/meta-data/iam/security-credentials/") return role ? new Response(role) : new Response("", { status: 404 });
      if (path === `/latest/meta-data/iam/security-credentials/${role}`) {
        const c = credentials();
        return Response.json({ Code: "Success", LastUpdated: new Date().toISOString(), Type: "AWS-HMAC", AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, Token: c.sessionToken, Expiration: c.expiration.toISOString() });
      }
      return new Response("", { status: 404 });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, received, stop: () => server.stop(true) };
}
