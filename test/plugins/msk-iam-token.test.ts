/** The MSK IAM token klink signs is byte for byte the one aws-msk-iam-sasl-signer-python signs. */
import { expect, test } from "bun:test";
import { mskToken } from "../../plugins/auth/msk-iam/token.ts";
import { runReference } from "./msk-iam-reference.ts";

interface Reference {
  token: string;
  expiresAtMs: number;
  userAgent: string;
}

const time = "2024-03-01T12:34:56Z";
const base = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region: "eu-west-1", time };
// a session token with the characters that need percent-encoding (+ / =), as real ones have
const sessionToken = "IQoJb3JpZ2luX2VjEJr//////////wEaCWV1LXdlc3QtMSJHMEUCIQD+abc/def==";

for (const [label, input] of [
  ["long-term credentials (no session token)", base],
  ["temporary credentials (with a session token)", { ...base, sessionToken, region: "us-east-1" }],
] as const) {
  test(`msk-iam token: ${label}: equal to the reference's, byte for byte`, async () => {
    const ref = await runReference<Reference>("msk-iam-reference.py", input);
    const mine = mskToken({ ...input, source: "test" }, input.region, Date.parse(time), ref.userAgent);
    expect(mine.token).toBe(ref.token);
    expect(mine.expiresAtMs).toBe(ref.expiresAtMs);
  });
}

test("msk-iam token: klink's own User-Agent, and a time with milliseconds, as the reference signs them", async () => {
  const input = { ...base, sessionToken, userAgent: "klink/0.1.0 (msk-iam)" };
  const ref = await runReference<Reference>("msk-iam-reference.py", input);
  const mine = mskToken({ ...input, source: "test" }, input.region, Date.parse(time) + 999, input.userAgent);
  expect(mine.token).toBe(ref.token);
  expect(Buffer.from(mine.token, "base64url").toString()).toContain("&User-Agent=klink%2F0.1.0+%28msk-iam%29");
});
