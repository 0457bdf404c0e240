/**
 * The reference implementation, aws-msk-iam-sasl-signer-python (with botocore), run from its venv
 * (scripts/setup.sh creates it): tokens to compare klink's with, and botocore's SigV4 to check the
 * signatures the stand-in servers receive.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const MSK_VENV = process.env.KLINK_MSK_VENV ?? join(homedir(), ".cache/klink/msk-signer-venv");
const python = join(MSK_VENV, "bin/python");

/** Runs `script` (a file beside this one) in the venv with `input` as JSON on stdin; its stdout parsed as JSON. */
export async function runReference<T>(script: string, input: object): Promise<T> {
  if (!existsSync(python)) {
    throw new Error(`the reference signer's venv ${MSK_VENV} is missing: run \`bash scripts/setup.sh\` (or: python3 -m venv ${MSK_VENV} && ${MSK_VENV}/bin/pip install aws-msk-iam-sasl-signer-python==1.0.2)`);
  }
  const proc = Bun.spawn([python, join(import.meta.dir, script)], { stdin: new Blob([JSON.stringify(input)]), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${script} exited with ${code}: ${err.trim()}`);
  return JSON.parse(out) as T;
}
