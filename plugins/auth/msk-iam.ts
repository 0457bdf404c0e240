/**
 * auth/msk-iam: Amazon MSK's IAM access control, over SASL/OAUTHBEARER. The token is a SigV4-presigned
 * `kafka-cluster:Connect` request for the cluster's region (msk-iam/token.ts), signed with the
 * credentials the AWS SDKs would find (msk-iam/credentials.ts), optionally for an assumed role.
 * librdkafka asks for a new token at 80% of its lifetime (OAUTHBEARER_TOKEN_REFRESH); the
 * group-protocol client asks at each new connection (`token`). A token lasts 900 s, or less when the
 * credentials expire sooner.
 */
import { homedir } from "node:os";
import type { JsonSchema } from "../../src/config/schema.ts";
import { KLINK_VERSION } from "../../src/version.ts";
import type { Auth, OAuthToken, OptionProblem, PluginContext } from "../plugin.ts";
import { answerTokenRefresh } from "./oauthbearer.ts";
import { CredentialProvider } from "./msk-iam/credentials.ts";
import { mskToken } from "./msk-iam/token.ts";
import { saslTlsSchema, saslTransport } from "./sasl.ts";
import { tlsProblems, type TlsOptions } from "./tls.ts";

export const name = "msk-iam";
export const kind = "auth";

export interface MskIamOptions {
  region?: string;
  profile?: string;
  roleArn?: string;
  roleSessionName: string;
  stsEndpoint?: string;
  tls: boolean | TlsOptions;
}

export const optionsSchema: JsonSchema = {
  description:
    "Amazon MSK IAM access control (SASL/OAUTHBEARER with a SigV4-signed token, renewed before it expires). Credentials as the AWS SDKs find them: the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), a web identity token file (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, as on EKS), the shared credentials and config files (AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE), the EC2 instance metadata service.",
  type: "object",
  additionalProperties: false,
  properties: {
    region: { description: "the cluster's AWS region (default: AWS_REGION, then AWS_DEFAULT_REGION)", type: "string", pattern: "^[a-z]{2}(-[a-z]+)+-\\d+$", examples: ["eu-west-1"] },
    profile: { description: "use this profile of the shared credentials and config files, and not the environment", type: "string", minLength: 1, examples: ["msk-migration"] },
    roleArn: { description: "an IAM role to assume (STS AssumeRole) with the credentials found; renewed before it expires", type: "string", pattern: "^arn:aws[a-z-]*:iam::\\d{12}:role/.+$", examples: ["arn:aws:iam::123456789012:role/klink-msk"] },
    roleSessionName: { description: "the session name of the assumed role (it appears in CloudTrail)", type: "string", pattern: "^[\\w+=,.@-]{2,64}$", default: "klink" },
    stsEndpoint: { description: "the STS endpoint (default: AWS_ENDPOINT_URL_STS, then https://sts.<region>.amazonaws.com), e.g. a VPC endpoint", type: "string", pattern: "^https?://", examples: ["https://vpce-0123-abcd.sts.eu-west-1.vpce.amazonaws.com"] },
    tls: saslTlsSchema,
  },
  examples: [{ region: "eu-west-1" }, { region: "us-east-1", roleArn: "arn:aws:iam::123456789012:role/klink-msk" }, { region: "eu-central-1", profile: "msk-source" }],
};

export function check(options: MskIamOptions, context: PluginContext): OptionProblem[] {
  const problems = typeof options.tls === "object" ? tlsProblems(options.tls, context, ["tls"]) : [];
  if (!options.region && !process.env.AWS_REGION && !process.env.AWS_DEFAULT_REGION) {
    problems.push({ path: ["region"], message: "give the cluster's AWS region (`region: eu-west-1`), or set AWS_REGION" });
  }
  return problems;
}

/** The plugin's parts that tests drive with their own environment, home and clock. */
export interface MskIamEnvironment {
  env: Record<string, string | undefined>;
  home: string;
  now: () => number;
}

/** A source of MSK IAM tokens: fresh credentials (kept while valid), a new signature each time. */
export function tokenSource(options: MskIamOptions, e: MskIamEnvironment): () => Promise<OAuthToken> {
  const region = options.region ?? e.env.AWS_REGION ?? e.env.AWS_DEFAULT_REGION;
  if (!region) throw new Error("no AWS region: set the plugin's `region` option or AWS_REGION");
  const credentials = new CredentialProvider({
    region,
    roleSessionName: options.roleSessionName ?? "klink",
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.roleArn ? { roleArn: options.roleArn } : {}),
    ...(options.stsEndpoint ? { stsEndpoint: options.stsEndpoint } : {}),
    ...e,
  });
  const userAgent = `klink/${KLINK_VERSION}`;
  return async () => {
    const c = await credentials.get();
    const t = mskToken(c, region, e.now(), userAgent);
    // the signature is worth nothing once the credentials behind it expire
    const expiresAtMs = Math.min(t.expiresAtMs, c.expiresAtMs ?? Infinity);
    return { token: t.token, expiresAtMs, principal: c.accessKeyId };
  };
}

export async function create(options: MskIamOptions, context: PluginContext, e: MskIamEnvironment = { env: process.env, home: homedir(), now: Date.now }): Promise<Auth> {
  const token = tokenSource(options, e);
  await token(); // fail at start, with the reason, rather than at each connection
  return {
    properties: { ...saslTransport(options.tls, context), "sasl.mechanism": "OAUTHBEARER" },
    token,
    onTokenRefresh: answerTokenRefresh(token),
  };
}
