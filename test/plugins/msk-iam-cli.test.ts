/**
 * auth/msk-iam from the command line (dist/klink): `klink plugins` documents it, `klink validate`
 * wants a region, and `klink plan` without AWS credentials ends with one line naming every place
 * it looked. The metadata service is an address where nothing answers (a stand-in for "not on EC2").
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { join, resolve } from "node:path";
import { source, target } from "../helpers.ts";
import { tempDir } from "../config/cli.ts";

setDefaultTimeout(60_000);

const KLINK = join(resolve(import.meta.dir, "../.."), "dist/klink");
const deadEndpoint = (() => {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
  s.stop(true);
  return `http://127.0.0.1:${s.port}`;
})();

function migration(options: string): string {
  return tempDir({
    "migration.yaml": `clusters:
  source:
    bootstrap: ${source().security!.oauthBootstrap}
    auth:
      plugin: msk-iam
      options:
${options}
  target:
    bootstrap: ${target().bootstrap}
link:
  name: msk-iam-cli
  topics: [orders]
`,
  });
}

async function exe(cwd: string, env: Record<string, string>, ...args: string[]) {
  const proc = Bun.spawn([KLINK, ...args], { cwd, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd, ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

test("klink plugins documents msk-iam and its options", async () => {
  const r = await exe(tempDir(), {}, "plugins", "msk-iam");
  expect(r.code).toBe(0);
  expect(r.stdout).toStartWith("auth/msk-iam: Amazon MSK IAM access control");
  for (const option of ["region", "profile", "roleArn", "roleSessionName", "stsEndpoint", "tls"]) expect(r.stdout).toMatch(new RegExp(`^    ${option} `, "m"));
});

test("klink validate: the region is required unless AWS_REGION gives it", async () => {
  const dir = migration("        tls: false");
  const without = await exe(dir, {}, "validate", "migration.yaml");
  expect(without.code).not.toBe(0);
  expect(without.stdout + without.stderr).toContain("give the cluster's AWS region (`region: eu-west-1`), or set AWS_REGION");
  expect((await exe(dir, { AWS_REGION: "eu-west-1" }, "validate", "migration.yaml")).code).toBe(0);
});

test("klink plan without AWS credentials: one line naming each source tried", async () => {
  const dir = migration("        region: eu-west-1\n        tls: false");
  const r = await exe(dir, { AWS_EC2_METADATA_SERVICE_ENDPOINT: deadEndpoint }, "plan", "migration.yaml");
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).toContain(
    `auth plugin msk-iam (clusters.source.auth) failed to start: no AWS credentials found; tried: environment (AWS_ACCESS_KEY_ID not set); web identity (AWS_WEB_IDENTITY_TOKEN_FILE not set); profile default (not in ${dir}/.aws/credentials nor ${dir}/.aws/config); EC2 instance metadata at ${deadEndpoint} (`,
  );
});
