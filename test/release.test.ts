/**
 * The release: `npm run release` builds the archive and its checksums, and scripts/release-check.sh
 * uses it as an operator would (checksum, --version, init and validate in an empty directory,
 * install.sh --prefix into a temporary root, systemd-analyze verify of the unit). A missing
 * runtime library is named with its Debian package.
 */
import { test, expect } from "bun:test";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

const repo = resolve(import.meta.dir, "..");

async function sh(argv: string[]): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn(argv, { cwd: repo, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out: out + err };
}

test("the release archive builds, and the executable in it runs, installs, and its unit verifies", async () => {
  const release = await sh(["bash", "scripts/release.sh", "--allow-dirty"]);
  expect(release.out).toMatch(/\[release\] (reproducible|NOT reproducible)/);
  expect(release.code).toBe(0);
  const check = await sh(["bash", "scripts/release-check.sh"]);
  console.log(check.out);
  expect(check.code).toBe(0);
  expect(check.out).toContain("[release-check] ok");
}, 600_000);

test("a dirty tree is refused without --allow-dirty", async () => {
  const probe = resolve(repo, "release-dirty-probe.tmp"); // an untracked file makes the tree dirty
  writeFileSync(probe, "");
  try {
    const release = await sh(["bash", "scripts/release.sh"]);
    expect(release.code).toBe(1);
    expect(release.out).toContain("release.sh: the tree has local changes (above): commit them, or pass --allow-dirty");
  } finally {
    rmSync(probe);
  }
});

// A mount namespace where libsasl2.so.2 is an empty file: the loader fails on it as if it were missing.
test("a missing runtime library is named with its Debian package", async () => {
  const lib = "/lib/x86_64-linux-gnu/libsasl2.so.2";
  const probe = await sh(["unshare", "-m", "true"]);
  if (probe.code !== 0 || !existsSync(lib)) return console.log(`skipped: no mount namespace here (${probe.out.trim()})`);
  const r = await sh(["unshare", "-m", "sh", "-c", `mount --bind /dev/null ${lib} && exec ${repo}/dist/klink --version`]);
  expect(r.code).toBe(2);
  expect(r.out.trim()).toBe(
    "klink version: cannot load librdkafka: missing runtime library libsasl2.so.2; install the Debian package libsasl2-2 (apt-get install libsasl2-2)",
  );
});
