/**
 * auth/msk-iam against a real broker: the source cluster's OAUTHBEARER listener (SASL_PLAINTEXT,
 * Kafka's unsecured JWT validator). Both of klink's clients, librdkafka and the group-protocol
 * client, carry the MSK token through the SASL exchange; that validator accepts only `alg: none`
 * JWTs (three dot-separated parts), so it refuses the token, and klink says so in one line.
 * A broker with a validator that checks SigV4 accepts it: msk-iam-validator.test.ts.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { create } from "../../plugins/auth/msk-iam.ts";
import { ConnectionError, GroupClient } from "../../src/group/index.ts";
import { connectAdmin } from "../../src/plan/connect.ts";
import { source, uniqueName } from "../helpers.ts";

setDefaultTimeout(60_000);

const oauthBootstrap = () => source().security!.oauthBootstrap;
const context = { configFile: "/x/migration.yaml", configDir: "/x", linkName: "t", readOnly: true };
/** Every MSK token starts with base64url("https:"). */
const TOKEN_START = "aHR0cHM6";
const env = { AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", AWS_SESSION_TOKEN: "session" };

test("librdkafka and the group client send the MSK token; the unsecured validator refuses it: one line, without the token", async () => {
  let tokens = 0;
  const auth = await create({ region: "eu-west-1", roleSessionName: "klink", tls: false }, context, { env, home: "/nonexistent", now: Date.now });
  const token = async () => (tokens++, auth.token!());
  const config = { "bootstrap.servers": oauthBootstrap(), ...auth.properties };
  const err = await connectAdmin("source", oauthBootstrap(), { config, options: { onTokenRefresh: auth.onTokenRefresh! }, token }).catch((e: Error) => e);
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).message).toStartWith(`source cluster (${oauthBootstrap()}): `);
  expect((err as Error).message).toContain('SASL authentication error: {"status":"invalid_token"}');
  expect((err as Error).message).toContain("msk-iam: the `region`, and that the IAM identity may kafka-cluster:Connect");
  expect((err as Error).message).not.toContain(TOKEN_START);

  const group = new GroupClient({ config, token });
  try {
    const refused = await group.coordinator(uniqueName("msk-iam")).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(ConnectionError);
    expect((refused as Error).message).not.toContain(TOKEN_START);
    expect((refused as Error).message).toBe(`broker ${oauthBootstrap()}: SASL OAUTHBEARER authentication failed: the broker refused the token: {"status":"invalid_token"}`);
    expect(tokens).toBeGreaterThanOrEqual(1); // the group client asked the plugin for its token
  } finally {
    group.close();
  }
});
