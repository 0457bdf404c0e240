/**
 * A seeded generator of hostile input for the CLI: migration.yaml files mutated from a valid one
 * (values replaced by nasty ones, keys deleted or misspelt, types changed, YAML broken, deep or
 * aliased structures) and command lines (unknown, repeated or valued flags, bad integers, odd
 * paths), for validate, plan, init, offsets and plugins. A planted secret sits in every config
 * (an ${env:} password, a ${file:} value) and must never be printed. The same seed gives the same
 * cases. Needs no cluster: the bootstrap servers answer nothing.
 */
import { join } from "node:path";

export const SECRET = "fz-Secret-7Qx9-never-printed";
export const SECRET_ENV = "KLINK_FUZZ_SECRET";
/** Nothing listens there: plan and run fail fast. */
export const UNREACHABLE = ["127.0.0.1:1", "127.0.0.1:2"] as const;

export interface GeneratedCase {
  name: string;
  /** F stands for the case's migration.yaml, D for its directory. */
  args: string[];
  yaml: string;
  /** Files beside the YAML. */
  files: Record<string, string>;
  /** Exit codes the documentation allows for this command line. */
  codes: number[];
  /** For a mutated command line: the option or argument the first error line must name. */
  names?: string;
}

const FIXTURES = join(import.meta.dir, "fixtures");

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}
type Random = ReturnType<typeof random>;

/** A valid migration.yaml using most sections, the secret planted as a password and as a file. */
export const VALID = `clusters:
  source:
    bootstrap: ${UNREACHABLE[0]}
    auth:
      plugin: sasl
      options:
        mechanism: SCRAM-SHA-512
        username: klink
        password: \${env:${SECRET_ENV}}
    librdkafka:
      socket.timeout.ms: 5000
  target:
    bootstrap: [${UNREACHABLE[1]}]
    librdkafka:
      sasl.password: \${file:secret.txt}
      socket.keepalive.enable: true
link:
  name: fuzz-migration
  topics:
    names: [orders, payments]
    regex: ["audit-.*"]
  start: earliest
  offsets: auto
  prefixFillLimit: 10000000
  create:
    copyConfigs: true
groups:
  names: [billing]
cutover:
  plugin: manual
storage:
  plugin: sqlite
status:
  listen: 127.0.0.1:8787
limits:
  inFlightBytes: 256MiB
  memory: 1GiB
`;

/** Values an attacker or a careless operator puts anywhere. */
const NASTY = [
  '""', "' '", "~", "null", "-1", "0", "1e999", "0x10", "99999999999999999999", "9007199254740993", "true", "no", "[]", "{}", "[a, [b, [c]]]",
  "{a: {b: {c: 1}}}", "*nope", "&a x", "!!binary aGVsbG8=", "!tag x", "'${env:NOPE}'", `'\${env:${SECRET_ENV}}'`, "'${file:/dev/zero}'",
  "'${file:secret.txt}'", "'${file:missing.txt}'", "'${file:.}'", "'${file:fifo-not-here}'", "'${env:}'", "'${bogus:x}'", "'$${env:X}'",
  "'('", "'a{99999}'", "'[z-a]'", "'\\u0000'", '"\\x00\\x01"', "'ümlaut ✓ 😀'", "'a\nb'", `"${"x".repeat(5000)}"`, "2024-13-45T99:99:99Z",
  "256PiB", "-5MiB", "1.5GiB", "'127.0.0.1:99999'", "'[::1]:8080'", "'0.0.0.0:80'", "'host:'", "':9092'", "'a b:1'", "|\n    multi\n    line",
];

const KEYS = ["clusters", "source", "target", "bootstrap", "auth", "plugin", "options", "mechanism", "username", "password", "librdkafka", "link", "name",
  "topics", "names", "regex", "start", "offsets", "prefixFillLimit", "create", "copyConfigs", "groups", "cutover", "storage", "status", "listen", "limits",
  "inFlightBytes", "memory", "allowRemote", "tokenFile", "path", "synchronous"];

const PLUGINS = ["getter-throws.ts", "proxy-throws.ts", "exits-on-import.ts", "exits-on-create.ts", "create-returns-null.ts", "throws-on-import.ts",
  "throws-on-start.ts", "not-a-plugin.ts", "echo-auth.ts", "default-export-cutover.ts"];

function lines(yaml: string): string[] {
  return yaml.split("\n");
}

/** One mutation of the YAML text. */
function mutate(r: Random, yaml: string): { yaml: string; what: string } {
  const ls = lines(yaml);
  const valueLines = ls.map((l, i) => [l, i] as const).filter(([l]) => /^\s*[\w.-]+: \S/.test(l) || /^\s*- /.test(l));
  const keyLines = ls.map((l, i) => [l, i] as const).filter(([l]) => /^\s*[\w.-]+:/.test(l));
  const at = r.pick(valueLines.length ? valueLines : keyLines.length ? keyLines : [["", 0] as const]);
  const [line, i] = at;
  const indent = /^\s*/.exec(line)![0];
  switch (r.int(14)) {
    case 0:
    case 1:
    case 2: {
      const value = r.pick(NASTY);
      ls[i] = line.replace(/^(\s*(?:[\w.-]+:|-)) .*$/, `$1 ${value}`);
      return { yaml: ls.join("\n"), what: `value on line ${i + 1} := ${value.slice(0, 20)}` };
    }
    case 3: {
      const [, k] = r.pick(keyLines.length ? keyLines : [at]);
      ls.splice(k, 1);
      return { yaml: ls.join("\n"), what: `line ${k + 1} deleted` };
    }
    case 4: {
      const key = r.pick(KEYS);
      const typo = r.int(2) ? key.slice(0, -1) : `${key}${key.at(-1)}`;
      ls.splice(i + 1, 0, `${indent}${typo}: ${r.pick(NASTY)}`);
      return { yaml: ls.join("\n"), what: `unknown key ${typo}` };
    }
    case 5:
      ls[i] = line.replace(/: .*$/, ":\n" + `${indent}  - ${r.pick(NASTY)}`);
      return { yaml: ls.join("\n"), what: `a list for line ${i + 1}` };
    case 6: {
      const breakers = ["\t" + line.trimStart(), line + ' "unclosed', line.replace(":", ""), `${line} :`, "---", "%YAML 9.9", line + " #", `${indent}? [complex, key]`, "\u0000", "@reserved"];
      ls[i] = r.pick(breakers);
      return { yaml: ls.join("\n"), what: `YAML broken on line ${i + 1}` };
    }
    case 7:
      ls.splice(i + 1, 0, line); // a duplicate key (or list item)
      return { yaml: ls.join("\n"), what: `line ${i + 1} twice` };
    case 8: {
      const cut = r.int(yaml.length);
      return { yaml: yaml.slice(0, cut), what: `truncated at ${cut}` };
    }
    case 9: {
      const depth = 1 + r.int(90);
      const open = r.int(2) ? "[" : "{a: ";
      const close = open === "[" ? "]" : "}";
      return { yaml: `${yaml}extra: ${open.repeat(depth)}1${close.repeat(depth)}\n`, what: `nested ${depth} deep` };
    }
    case 10: {
      const copies = 1 + r.int(40);
      return { yaml: `${yaml}a: &a [${Array(1 + r.int(400)).fill("x").join(",")}]\nb: [${Array(copies).fill("*a").join(",")}]\n`, what: `${copies} aliases` };
    }
    case 11: {
      const kind = r.pick(["auth", "cutover", "storage"]);
      const file = `${FIXTURES}/${r.pick(PLUGINS)}`;
      if (kind === "auth") return { yaml: yaml.replace(/    auth:\n      plugin: sasl\n/, `    auth:\n      plugin: ${file}\n`), what: `auth plugin ${file}` };
      return { yaml: yaml.replace(new RegExp(`${kind}:\\n  plugin: \\w+`), `${kind}:\n  plugin: ${file}`), what: `${kind} plugin ${file}` };
    }
    case 12: {
      const count = 1 + r.int(3000);
      return { yaml: `${yaml}${Array.from({ length: count }, (_, n) => `junk${n}: ${n}`).join("\n")}\n`, what: `${count} unknown keys` };
    }
    default: {
      // a secret where it is not a credential: redaction follows the value, wherever it is (bootstrap
      // servers are documented as not secret, and printed)
      const fields = [`  name: '\${env:${SECRET_ENV}}'`, "    names: ['${file:secret.txt}']", `  offsets: '\${env:${SECRET_ENV}}'`, "  start: '${file:secret.txt}'", `        username: '\${env:${SECRET_ENV}}'`];
      const field = r.pick(fields);
      const key = field.trim().split(":")[0]!;
      const k = ls.findIndex((l) => l.trim().startsWith(`${key}:`));
      if (k >= 0) ls[k] = field;
      return { yaml: ls.join("\n"), what: `secret as ${key}` };
    }
  }
}

/** Command lines for one config; `mutated` gives hostile flags and values. */
function commandLine(r: Random): { args: string[]; codes: number[]; names?: string; what: string } {
  const command = r.pick(["validate", "validate", "validate", "plan", "offsets-translate", "offsets-export", "plugins", "init"]);
  switch (command) {
    case "validate":
      return { args: ["validate", "F", ...(r.int(3) === 0 ? ["--print"] : [])], codes: [0, 1], what: "validate" };
    case "plan":
      return { args: ["plan", "F", ...(r.int(2) ? ["--json"] : [])], codes: [1, 2], what: "plan" }; // no cluster answers: never 0
    case "offsets-translate":
      return { args: ["offsets", "translate", "F", "--topic", "orders", "--partition", "0", "--offset", String(r.int(1000))], codes: [1, 2], what: "offsets translate" };
    case "offsets-export":
      return { args: ["offsets", "export", "F", "--format", r.pick(["csv", "parquet"]), "--out", "D/out.x"], codes: [0, 1, 2], what: "offsets export" };
    case "plugins":
      return { args: ["plugins", r.pick([...PLUGINS.map((p) => `${FIXTURES}/${p}`), "sasl", "sqlite", "nope"])], codes: [0, 1], what: "plugins" };
    default:
      return { args: ["init", "D/new.yaml", "--source", r.pick(["a:1", "", " ", "a:1,b:2", "x".repeat(300)]), "--target", "b:1"], codes: [0, 1], what: "init" };
  }
}

/** A hostile command line: a known command with one argument made wrong. */
function hostileArgs(r: Random): { args: string[]; codes: number[]; names: string; what: string } {
  const bad = r.pick(["", " ", "-1", "1e3", "0x1f", "1.5", "99999999999999999999", "9007199254740993", "+3", "٣", "3 ", "NaN"]);
  switch (r.int(8)) {
    case 0:
      return { args: ["offsets", "translate", "F", "--topic", "orders", "--partition", "0", `--offset=${bad}`], codes: [1], names: "--offset", what: `--offset=${bad}` };
    case 1:
      return { args: ["offsets", "translate", "F", "--topic", "orders", `--partition=${bad}`, "--offset", "0"], codes: [1], names: "--partition", what: `--partition=${bad}` };
    case 2: {
      const [command, flag] = r.pick([["validate", "--print"], ["plan", "--json"], ["run", "--until-caught-up"], ["plugins", "--json"]] as const);
      const value = r.pick(["false", "0", "no", "", "true"]);
      return { args: [command, ...(command === "plugins" ? [] : ["F"]), `${flag}=${value}`], codes: [1], names: flag, what: `${flag}=${value}` };
    }
    case 3: {
      const command = r.pick(["validate", "plan", "init", "plugins", "offsets translate"]);
      const flag = r.pick(["--pirnt", "--jsn", "--forse", "--source-x", "-x", "---", "--=x", "--help-me"]); // "--" ends the options: no mistake
      return { args: [...command.split(" "), flag], codes: [1], names: flag.split("=")[0]!, what: `${command} ${flag}` };
    }
    case 4: {
      const option = r.pick(["--source", "--target", "--name"]);
      return { args: ["init", "D/x.yaml", option], codes: [1], names: option, what: `init ${option} without a value` };
    }
    case 5: {
      const out = r.pick(["D/missing/x.csv", "D", "/dev/full", "/proc/version", "D/out.csv/x"]);
      return { args: ["offsets", "export", "F", "--format", "csv", "--out", out], codes: [1, 2], names: out.startsWith("D") ? "D" : out, what: `--out ${out}` };
    }
    case 6: {
      const file = r.pick(["D/missing.yaml", "D", "/dev/null", "/dev/zero", "/proc/self/status"]);
      return { args: [r.pick(["validate", "plan"]), file], codes: [1], names: file, what: `config ${file}` };
    }
    default: {
      const format = r.pick(["xml", "", "CSV", "parquet ", "csv,parquet"]);
      return { args: ["offsets", "export", "F", `--format=${format}`, "--out", "D/o"], codes: [1], names: "--format", what: `--format=${format}` };
    }
  }
}

/** `count` cases from `seed`: about four in five mutated configs, the rest hostile command lines. */
export function generate(seed: number, count: number): GeneratedCase[] {
  const r = random(seed);
  const cases: GeneratedCase[] = [];
  for (let n = 0; n < count; n++) {
    const files = { "secret.txt": `${SECRET}\n` };
    if (r.int(5) === 0) {
      const c = hostileArgs(r);
      cases.push({ name: `#${n} args: ${c.what}`, args: c.args, yaml: VALID, files, codes: c.codes, names: c.names });
      continue;
    }
    let yaml = VALID;
    const whats: string[] = [];
    for (let m = 1 + r.int(3); m > 0; m--) {
      const changed = mutate(r, yaml);
      yaml = changed.yaml;
      whats.push(changed.what);
    }
    const c = commandLine(r);
    cases.push({ name: `#${n} ${c.what}: ${whats.join("; ")}`, args: c.args, yaml, files, codes: c.codes });
  }
  return cases;
}
