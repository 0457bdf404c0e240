/**
 * The MSK IAM token, as aws-msk-iam-sasl-signer-python builds it: a SigV4-presigned
 * `GET https://kafka.<region>.amazonaws.com/?Action=kafka-cluster:Connect` valid 900 s, with a
 * `User-Agent` parameter appended after the signature, base64url-encoded without padding.
 * The broker checks the signature, the time and the `kafka-cluster:Connect` permission.
 */
import { awsEncode, presignUrl, type AwsCredentials } from "./sigv4.ts";

export const TOKEN_LIFETIME_SECONDS = 900;

export interface MskToken {
  token: string;
  /** When the broker stops accepting it: signing time (whole seconds) + 900 s. */
  expiresAtMs: number;
}

export function mskToken(credentials: AwsCredentials, region: string, nowMs: number, userAgent: string): MskToken {
  const signedAtMs = Math.floor(nowMs / 1000) * 1000; // X-Amz-Date has whole seconds
  const url = presignUrl(new URL(`https://kafka.${region}.amazonaws.com/`), [["Action", "kafka-cluster:Connect"]], credentials, region, "kafka-cluster", TOKEN_LIFETIME_SECONDS, signedAtMs);
  // appended as Python's urlencode does it (a space becomes "+"), after the signature: not signed
  const withAgent = `${url}&User-Agent=${awsEncode(userAgent).replace(/%20/g, "+")}`;
  return { token: Buffer.from(withAgent, "utf8").toString("base64url"), expiresAtMs: signedAtMs + TOKEN_LIFETIME_SECONDS * 1000 };
}
