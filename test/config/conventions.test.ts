/**
 * CLI conventions (issue 17, item 3): `--` ends the options, FILE's default said in every help
 * that has one, --json on commands that print a result, shell completion from the command table,
 * the KLINK_* variables documented, init's published schema URL. Needs no cluster.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BASE } from "./bad-inputs.ts";
import { klink, tempDir } from "./cli.ts";

const repo = join(import.meta.dir, "../..");

test("`--` ends the options: validate -- FILE, validate FILE --", async () => {
  const dir = tempDir({ "migration.yaml": BASE });
  const file = join(dir, "migration.yaml");
  for (const args of [["--", file], [file, "--"]]) {
    const r = await klink("validate", ...args);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith(`${file}: valid`);
  }
  // after --, a word that looks like an option is a file name
  const r = await klink("validate", "--", "--print");
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("cannot read --print");
});

test("an unknown short option is named (it was taken for the file)", async () => {
  const r = await klink("validate", "-x");
  expect(r.code).toBe(1);
  expect(r.stderr.split("\n")[0]).toBe("klink validate: unknown option -x");
});

test("-v and -q still go together with nothing else, and not with each other", async () => {
  const r = await klink("run", "-v", "-q");
  expect(r.code).toBe(1);
  expect(r.stderr).toBe("klink run: give -v (more) or -q (less), not both");
});

test("every command whose FILE defaults to ./migration.yaml says so in its help", async () => {
  for (const name of ["init", "validate", "plan", "run", "status", "verify", "offsets"]) {
    const r = await klink(name, "--help");
    expect(r.stdout.split("\n")[0]).toContain(`klink ${name} ${name === "offsets" ? "translate " : ""}[FILE]`);
    expect(r.stdout).toContain("FILE defaults to ./migration.yaml");
  }
});

test("--json: validate (valid and invalid), init, version", async () => {
  const dir = tempDir({ "migration.yaml": BASE, "bad.yaml": `${BASE}linkk: 1\n` });
  const valid = await klink("validate", join(dir, "migration.yaml"), "--json");
  expect(valid.code).toBe(0);
  const v = JSON.parse(valid.stdout);
  expect(v).toMatchObject({ valid: true, errors: [], warnings: [] });
  expect(v.config.link.name).toBe("test");

  const invalid = await klink("validate", join(dir, "bad.yaml"), "--json");
  expect(invalid.code).toBe(1);
  const i = JSON.parse(invalid.stdout);
  expect(i.valid).toBe(false);
  expect(i.errors).toEqual([`${join(dir, "bad.yaml")}:9:1: linkk: unknown key 'linkk'; did you mean 'link'?`]);

  const init = await klink("init", join(dir, "new.yaml"), "--json");
  expect(init.code).toBe(0);
  expect(JSON.parse(init.stdout).written).toEqual([join(dir, "new.yaml"), join(dir, "migration.schema.json")]);

  const version = await klink("version", "--json");
  expect(version.code).toBe(0);
  expect(Object.keys(JSON.parse(version.stdout))).toEqual(["version", "commit", "librdkafka"]);
});

/** Asks the bash completion script what it offers for the words typed so far (the last one partial). */
function bashComplete(script: string, ...words: string[]): string[] {
  const dir = tempDir({ "klink.bash": script, "one.yaml": "", "two.yaml": "" });
  const typed = words.map((w) => `'${w}'`).join(" ");
  const out = Bun.spawnSync(["bash", "-c", `source klink.bash; COMP_WORDS=(klink ${typed}); COMP_CWORD=${words.length}; _klink; printf '%s\\n' "\${COMPREPLY[@]}"`], { cwd: dir });
  expect(out.stderr.toString()).toBe("");
  return out.stdout.toString().split("\n").filter(Boolean).sort();
}

test("klink completion bash: commands, flags, option values and files, from the command table", async () => {
  const r = await klink("completion", "bash");
  expect(r.code).toBe(0);
  expect(bashComplete(r.stdout, "va")).toEqual(["validate"]);
  expect(bashComplete(r.stdout, "p")).toEqual(["plan", "plugins", "promote"]);
  expect(bashComplete(r.stdout, "run", "--u")).toEqual(["--until-caught-up"]);
  expect(bashComplete(r.stdout, "run", "--log-format", "j")).toEqual(["json"]);
  expect(bashComplete(r.stdout, "promote", "--d")).toEqual(["--dry-run"]);
  expect(bashComplete(r.stdout, "offsets", "t")).toEqual(["translate"]);
  expect(bashComplete(r.stdout, "offsets", "translate", "f.yaml", "--to", "")).toEqual(["source", "target"]);
  expect(bashComplete(r.stdout, "validate", "")).toEqual(["klink.bash", "one.yaml", "two.yaml"]);
  expect(bashComplete(r.stdout, "validate", "--json", "t")).toEqual(["two.yaml"]);
  expect(bashComplete(r.stdout, "completion", "")).toEqual(["bash", "fish", "zsh"]);
  for (const shell of ["zsh", "fish"]) {
    const s = await klink("completion", shell);
    expect(s.code).toBe(0);
    expect(s.stdout).toContain("until-caught-up");
  }
  expect((await klink("completion", "tcsh")).code).toBe(1);
});

test("every KLINK_* variable klink reads is in `klink --help` and in the README", async () => {
  const sources = Bun.spawnSync(["grep", "-rhoE", "process\\.env\\.KLINK_[A-Z_]+", "src", "plugins"], { cwd: repo }).stdout.toString();
  const read = [...new Set(sources.split("\n").filter(Boolean).map((s) => s.replace("process.env.", "")))].sort();
  expect(read).toEqual(["KLINK_DEBUG", "KLINK_DEBUG_MESSAGES", "KLINK_LIBRDKAFKA"]);
  const help = (await klink("--help")).stdout;
  const readme = readFileSync(join(repo, "README.md"), "utf8");
  for (const name of [...read, "KLINK_SOURCE_BOOTSTRAP", "KLINK_TARGET_BOOTSTRAP"]) {
    expect({ name, inHelp: help.includes(name), inReadme: readme.includes(name) }).toEqual({ name, inHelp: true, inReadme: true });
  }
});

test("init offers the schema's published URL besides the local copy, which stays the editor's", async () => {
  const dir = tempDir();
  const file = join(dir, "migration.yaml");
  expect((await klink("init", file)).code).toBe(0);
  const lines = readFileSync(file, "utf8").split("\n");
  expect(lines[0]).toBe("# yaml-language-server: $schema=./migration.schema.json");
  const offer = lines.find((l) => l.includes("$schema=https://"));
  expect(offer).toMatch(/^# # yaml-language-server: \$schema=https:\/\/\S+\/v\d+\.\d+\.\d+\/migration\.schema\.json$/);
});
