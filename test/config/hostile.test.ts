/**
 * Hostile and careless input, a fixed corpus: each case ends dist/klink with its exit code and
 * one line on stderr (a problem of the file: one positioned line, then the summary), never a
 * stack trace, and never a hang (each run is killed after KILL_AFTER_MS, which fails the case).
 * Runs the executable: exit codes and streams are the ones an operator sees. Needs no cluster.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BASE } from "./bad-inputs.ts";
import { tempDir } from "./cli.ts";

setDefaultTimeout(120_000);

const REPO = resolve(import.meta.dir, "../..");
const KLINK = join(REPO, "dist/klink");
/** A guard against hangs (a FIFO read forever), not a speed requirement. */
const KILL_AFTER_MS = 60_000;

interface Case {
  name: string;
  /** The command line; F stands for the case's migration.yaml, D for its directory. */
  args: string[];
  /** The migration.yaml (default: BASE), and files beside it (a value of null makes a FIFO). */
  yaml?: string;
  files?: Record<string, string | null>;
  code: number;
  /** Every line of stderr, F and D as above. */
  stderr: string[];
}

const summary = (command: string) => `klink ${command}: 1 error in F`;
const MIB = 1024 * 1024;

/** `a: &a [1, ..., 100]` (101 values) and 100 aliases of it: the 100th takes the copies past 10,000. */
const aliasOverLimit = `${BASE}a: &a [${Array.from({ length: 100 }, (_, i) => i).join(", ")}]\nb: [${Array(100).fill("*a").join(", ")}]\n`;
const laughs = `${BASE}a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
`;
const aliasLimit = "aliases expand the file beyond the limit of 10,000 values: write the values out or use fewer aliases";
const notRegular = "not a regular file (a device, FIFO or socket): name a file";
const translate = (offset: string) => ["offsets", "translate", "F", "--topic", "orders", "--partition", "0", `--offset=${offset}`];
const digitsOnly = (value: string) => `klink offsets: --offset must be a non-negative integer (digits only), got '${value}'`;
const exportTo = (out: string) => ["offsets", "export", "F", "--format", "csv", "--out", out];
const fixtures = join(import.meta.dir, "fixtures");
const cutoverPlugin = (file: string) => `${BASE}cutover: { plugin: ${fixtures}/${file} }\n`;
const pluginProblem = (file: string, problem: string) => [`F:9:20: cutover.plugin: ${problem.replace("P", `${fixtures}/${file}`)}`, summary("validate")];
const topics = (n: number) => BASE.replace("  topics: [orders]\n", `  topics:\n${Array.from({ length: n }, (_, i) => `    - topic-${i}\n`).join("")}`);
const unknownKeys = (n: number) => `${BASE}${Array.from({ length: n }, (_, i) => `u${i}: 1\n`).join("")}`;
const unknownKeyLines = (n: number) => Array.from({ length: n }, (_, i) => `F:${9 + i}:1: u${i}: unknown key 'u${i}'; expected one of clusters, link, groups, cutover, storage, status, limits`);
const nested = (depth: number) => `${BASE}x:\n${Array.from({ length: depth }, (_, i) => `${" ".repeat(i + 1)}k${i}:\n`).join("")}`;
const mustThrow = "a plugin must throw an Error instead, and klink reports it";

export const corpus: Case[] = [
  // --- YAML aliases: yaml's toJS threw a ReferenceError (a stack and minified source, exit 1)
  { name: "an undefined alias", args: ["validate", "F"], yaml: `${BASE}x: *nope\n`, code: 1, stderr: ["F:9:4: *nope: no anchor &nope is defined before this alias", summary("validate")] },
  { name: "aliases copying more than 10,000 values", args: ["validate", "F"], yaml: aliasOverLimit, code: 1, stderr: [`F:10:401: ${aliasLimit}`, summary("validate")] },
  { name: "a billion laughs", args: ["validate", "F"], yaml: laughs, code: 1, stderr: [`F:13:8: ${aliasLimit}`, summary("validate")] },
  { name: "an alias inside its own anchor", args: ["validate", "F"], yaml: `${BASE}x: &a [1, *a]\n`, code: 1, stderr: ["F:9:11: *a: this alias is inside its own anchor &a", summary("validate")] },

  // --- what klink reads: regular files only, bounded
  { name: "/dev/zero as the config", args: ["validate", "/dev/zero"], code: 1, stderr: [`klink validate: cannot read /dev/zero: ${notRegular}`] },
  { name: "a FIFO as the config", args: ["validate", "D/fifo.yaml"], files: { "fifo.yaml": null }, code: 1, stderr: [`klink validate: cannot read D/fifo.yaml: ${notRegular}`] },
  {
    name: "a config over 16 MiB", args: ["validate", "F"], yaml: `${BASE}#${"x".repeat(16 * MIB)}\n`, code: 1,
    stderr: [`klink validate: cannot read F: it is ${BASE.length + 16 * MIB + 2} bytes, over the 16 MiB limit for a migration.yaml`],
  },
  {
    name: "${file:/dev/zero}", args: ["validate", "F"], yaml: BASE.replace("name: test", "name: ${file:/dev/zero}"), code: 1,
    stderr: [`F:7:9: link.name: cannot read /dev/zero (used as \${file:/dev/zero}): ${notRegular}`, summary("validate")],
  },
  {
    name: "${file:} naming a FIFO", args: ["validate", "F"], yaml: BASE.replace("name: test", "name: ${file:name.fifo}"), files: { "name.fifo": null }, code: 1,
    stderr: [`F:7:9: link.name: cannot read D/name.fifo (used as \${file:name.fifo}): ${notRegular}`, summary("validate")],
  },
  {
    name: "${file:} over 1 MiB", args: ["validate", "F"], yaml: BASE.replace("name: test", "name: ${file:big.txt}"), files: { "big.txt": "x".repeat(MIB + 1) }, code: 1,
    stderr: [`F:7:9: link.name: cannot read D/big.txt (used as \${file:big.txt}): it is ${MIB + 1} bytes, over the 1 MiB limit for a \${file:} value`, summary("validate")],
  },

  // --- limits on the shape: a 100k-deep flow sequence took over 15 s, unknown keys cost quadratic time
  { name: "a 100,000-deep flow sequence", args: ["validate", "F"], yaml: `${BASE}x: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`, code: 1, stderr: ["F:9:68: values nest deeper than the limit of 64 levels: flatten them", summary("validate")] },
  {
    name: "mappings nested 70 deep", args: ["validate", "F"], yaml: nested(70), code: 1,
    stderr: [`F:73:65: x.${Array.from({ length: 63 }, (_, i) => `k${i}`).join(".")}: values nest deeper than the limit of 64 levels: flatten them`, summary("validate")],
  },
  { name: "a list of 200,001 topics", args: ["validate", "F"], yaml: topics(200_001), code: 1, stderr: ["F:9:5: link.topics: 200,001 items, beyond the limit of 200,000: split the file", summary("validate")] },
  { name: "a mapping of 200,001 keys", args: ["validate", "F"], yaml: unknownKeys(199_999), code: 1, stderr: ["F:1:1: 200,001 keys, beyond the limit of 200,000: split the file", summary("validate")] },
  { name: "100,000 unknown keys, each reported", args: ["validate", "F"], yaml: unknownKeys(100_000), code: 1, stderr: [...unknownKeyLines(100_000), "klink validate: 100000 errors in F"] },
  {
    name: "a 50 MB topic list", args: ["validate", "F"], yaml: topics(3_500_000), code: 1,
    stderr: [`klink validate: cannot read F: it is ${topics(3_500_000).length} bytes, over the 16 MiB limit for a migration.yaml`],
  },

  // --- misleading output: "status on http://..." was printed after the endpoint failed to bind
  {
    name: "a status address klink cannot bind", args: ["run", "F"], yaml: `${BASE}status:\n  listen: 192.0.2.1:8080\n  allowRemote: true\n`, code: 2,
    stderr: [
      "F:10:11: warning: status.listen: the status endpoint listens beyond loopback (192.0.2.1:8080) without TLS: anyone who reaches it sees the migration's state, and control requests (which need the token) travel unencrypted",
      "klink run: status endpoint 192.0.2.1:8080 cannot listen: EADDRNOTAVAIL: address not available, listen; set another status.listen",
    ],
  },

  // --- found by the generator (hostile-generated.test.ts)
  {
    name: "topics.regex a string, not a list", args: ["validate", "F"], yaml: BASE.replace("  topics: [orders]", "  topics: { names: [orders], regex: -1 }"), code: 1,
    stderr: ["F:8:37: link.topics.regex: expected a list, got -1", summary("validate")],
  },
  {
    name: "a librdkafka message ending in a newline", args: ["validate", "F"], yaml: BASE.replace("    bootstrap: 127.0.0.1:9093\n", "    bootstrap: 127.0.0.1:9093\n    librdkafka: { socket.timeout.ms: 1 }\n"), code: 1,
    stderr: [`F:6:38: clusters.target.librdkafka["socket.timeout.ms"]: librdkafka rejects '1': Configuration property "socket.timeout.ms" value 1 is outside allowed range 10..300000`, summary("validate")],
  },

  // --- files klink writes: the path named, exit 1 for a bad path, 2 for a full disk
  { name: "offsets export into a missing directory", args: exportTo("/nonexistent/x.csv"), code: 1, stderr: ["klink offsets: cannot write /nonexistent/x.csv: its directory /nonexistent does not exist"] },
  { name: "offsets export to a directory", args: exportTo("D"), code: 1, stderr: ["klink offsets: cannot write D: it is a directory: name a file"] },
  { name: "offsets export to a full disk", args: exportTo("/dev/full"), code: 2, stderr: ["klink offsets: cannot write /dev/full: no space left on the device"] },
  { name: "init into a missing directory", args: ["init", "D/x/y/z.yaml"], code: 1, stderr: ["klink init: cannot write D/x/y/z.yaml: its directory D/x/y does not exist"] },
  { name: "init to a full disk", args: ["init", "/dev/full", "--force"], code: 2, stderr: ["klink init: cannot write /dev/full: no space left on the device"] },

  // --- plugins: a throwing getter or Proxy was a crash (exit 2), process.exit ended klink silently, a loop hung it
  { name: "a plugin whose export getter throws", args: ["validate", "F"], yaml: cutoverPlugin("getter-throws.ts"), code: 1, stderr: pluginProblem("getter-throws.ts", "P: reading its exports failed: create is not ready") },
  { name: "a plugin exported as a throwing Proxy", args: ["validate", "F"], yaml: cutoverPlugin("proxy-throws.ts"), code: 1, stderr: pluginProblem("proxy-throws.ts", "P: reading its exports failed: no property name here") },
  { name: "a plugin calling process.exit(3) at import", args: ["validate", "F"], yaml: cutoverPlugin("exits-on-import.ts"), code: 1, stderr: pluginProblem("exits-on-import.ts", `plugin P called process.exit(3) while loading: ${mustThrow}`) },
  {
    name: "a plugin looping forever at import", args: ["validate", "F"], yaml: cutoverPlugin("loops-on-import.ts"), code: 1,
    stderr: pluginProblem("loops-on-import.ts", "plugin P did not finish loading within 10 s: its top-level code loops or waits; move slow work into create()"),
  },
  {
    name: "a storage plugin calling process.exit(3) in create()", args: exportTo("D/o.csv"), yaml: `${BASE}storage: { plugin: ${fixtures}/exits-on-create.ts }\n`, code: 1,
    stderr: [`klink offsets: storage plugin quitter (storage, ${fixtures}/exits-on-create.ts) failed to start: plugin ${fixtures}/exits-on-create.ts called process.exit(3): ${mustThrow}`],
  },
  {
    name: "an auth plugin whose create() returns null", args: ["plan", "F"], yaml: BASE.replace("    bootstrap: 127.0.0.1:9092\n", `    bootstrap: 127.0.0.1:9092\n    auth: { plugin: ${fixtures}/create-returns-null.ts }\n`), code: 1,
    stderr: [`klink plan: auth plugin nothing (clusters.source.auth, ${fixtures}/create-returns-null.ts): create() returned null, not an object: return the plugin instance (see \`klink plugins --help\`)`],
  },

  // --- integers on the command line: digits only, exact ('' and ' ' were 0, big ones rounded)
  { name: "--offset=''", args: translate(""), code: 1, stderr: [digitsOnly("")] },
  { name: "--offset=' '", args: translate(" "), code: 1, stderr: [digitsOnly(" ")] },
  { name: "--offset=-1", args: translate("-1"), code: 1, stderr: [digitsOnly("-1")] },
  { name: "--offset=1e3", args: translate("1e3"), code: 1, stderr: [digitsOnly("1e3")] },
  {
    name: "--offset=99999999999999999999", args: translate("99999999999999999999"), code: 1,
    stderr: ["klink offsets: --offset 99999999999999999999 is too large: at most 9007199254740991 (2^53-1, the largest offset klink handles exactly)"],
  },
  {
    name: "--offset=9007199254740993 (2^53+1, rounded to ...992 by a float)", args: translate("9007199254740993"), code: 1,
    stderr: ["klink offsets: --offset 9007199254740993 is too large: at most 9007199254740991 (2^53-1, the largest offset klink handles exactly)"],
  },

  // --- flags take no value: --until-caught-up=false meant true
  {
    name: "--until-caught-up=false", args: ["run", "F", "--until-caught-up=false"], code: 1,
    stderr: ["klink run: --until-caught-up takes no value (got '--until-caught-up=false'): give --until-caught-up to turn it on, leave it out to keep it off"],
  },
];

/** Runs dist/klink on one case in a fresh directory; F and D in its output put back. */
async function run(c: Case) {
  const dir = tempDir({ "migration.yaml": c.yaml ?? BASE });
  for (const [name, content] of Object.entries(c.files ?? {})) {
    if (content === null) execFileSync("mkfifo", [join(dir, name)]);
    else writeFileSync(join(dir, name), content);
  }
  mkdirSync(join(dir, "x"));
  const file = join(dir, "migration.yaml");
  const args = c.args.map((a) => a.replace(/^F$/, file).replace(/^D/, dir).replace(/^--out=D/, `--out=${dir}`));
  const { KLINK_DEBUG: _, ...env } = process.env;
  const proc = Bun.spawn([KLINK, ...args], { cwd: dir, env, stdout: "pipe", stderr: "pipe" });
  const killer = setTimeout(() => proc.kill("SIGKILL"), KILL_AFTER_MS);
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(killer);
  const lines = stderr.trimEnd().split(file).join("F").split(dir).join("D").split("\n");
  return { code, lines };
}

beforeAll(() => {
  if (!existsSync(KLINK)) {
    const build = Bun.spawnSync(["bash", "scripts/build.sh"], { cwd: REPO, stdout: "inherit", stderr: "inherit" });
    if (build.exitCode !== 0) throw new Error(`bash scripts/build.sh failed (exit ${build.exitCode})`);
  }
}, 600_000);

describe("hostile input: one line, the right exit code, no stack trace, no hang", () => {
  for (const c of corpus) {
    test(c.name, async () => {
      const { code, lines } = await run(c);
      expect(lines.filter((l) => /^\s+at /.test(l))).toEqual([]);
      expect(lines).toEqual(c.stderr);
      expect(code).toBe(c.code);
    });
  }
});
