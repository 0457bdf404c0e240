import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parse } from "yaml";
import { commands } from "../../src/commands/index.ts";
import { clientSettings } from "../../src/config/clients.ts";
import { loadConfig } from "../../src/config/load.ts";
import { withPublishedSchemaLine } from "../../src/config/schema-url.ts";
import { startPlugin } from "../../plugins/registry.ts";
import { BASE } from "./bad-inputs.ts";
import { klink, tempDir } from "./cli.ts";

const repo = join(import.meta.dir, "../..");
const fixtures = join(import.meta.dir, "fixtures");
const exampleEnv = { KLINK_SOURCE_BOOTSTRAP: "127.0.0.1:9092", KLINK_TARGET_BOOTSTRAP: "127.0.0.1:9093" };

describe("--help on every command", () => {
  for (const c of commands) {
    test(c.name, async () => {
      const r = await klink(c.name, "--help");
      expect(r.code).toBe(0);
      expect(r.stdout).toStartWith(`klink ${c.name}`);
    });
  }
});

describe("klink init", () => {
  test("writes the example with the given servers and name, and the schema beside it; the result is valid", async () => {
    const dir = tempDir();
    const file = join(dir, "migration.yaml");
    const r = await klink("init", file, "--source", "kafka-a:9092,kafka-b:9092", "--target=new-kafka:9092", "--name", "orders-move");
    expect(r.code).toBe(0);
    const written = readFileSync(file, "utf8");
    const example = readFileSync(join(repo, "migration.yaml"), "utf8");
    expect(written).toBe(
      withPublishedSchemaLine(example)
        .replace("${env:KLINK_SOURCE_BOOTSTRAP}", "kafka-a:9092,kafka-b:9092")
        .replace("${env:KLINK_TARGET_BOOTSTRAP}", "new-kafka:9092")
        .replace("name: example-migration", "name: orders-move"),
    );
    expect(JSON.parse(readFileSync(join(dir, "migration.schema.json"), "utf8")).title).toBe("klink migration.yaml");
    expect((await klink("validate", file)).code).toBe(0);
  });

  test("refuses to overwrite without --force", async () => {
    const dir = tempDir({ "migration.yaml": "mine\n" });
    const file = join(dir, "migration.yaml");
    const r = await klink("init", file);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`klink init: ${file} exists: pass --force to overwrite it`);
    expect(readFileSync(file, "utf8")).toBe("mine\n");
    expect((await klink("init", file, "--force")).code).toBe(0);
    expect(readFileSync(file, "utf8")).toStartWith("# yaml-language-server: $schema=./migration.schema.json\n");
  });

  test("a server that is not HOST:PORT is refused", async () => {
    const dir = tempDir();
    const r = await klink("init", join(dir, "m.yaml"), "--source", "kafka-a");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("klink init: --source: 'kafka-a' is not HOST:PORT");
    expect(existsSync(join(dir, "m.yaml"))).toBe(false);
  });
});

describe("klink schema", () => {
  test("is a valid draft 2020-12 schema that accepts the example migration.yaml, plugin options included", async () => {
    const r = await klink("schema");
    const schema = JSON.parse(r.stdout);
    const validate = new Ajv2020({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
    const example = parse(readFileSync(join(repo, "migration.yaml"), "utf8"));
    expect(validate(example)).toBe(true);
    const bad = { ...example, storage: { plugin: "sqlite", options: { synchronous: "sometimes" } } };
    expect(validate(bad)).toBe(false);
  });

  test("the repository's migration.schema.json is what `klink schema` prints", async () => {
    expect(readFileSync(join(repo, "migration.schema.json"), "utf8")).toBe((await klink("schema")).stdout + "\n");
  });

  test("the example migration.yaml is valid", async () => {
    Object.assign(process.env, exampleEnv);
    try {
      const r = await klink("validate", join(repo, "migration.yaml"));
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    } finally {
      for (const k of Object.keys(exampleEnv)) delete process.env[k];
    }
  });
});

describe("klink plugins", () => {
  test("lists every built-in with options, defaults and examples from its schema", async () => {
    const r = await klink("plugins");
    expect(r.code).toBe(0);
    for (const name of ["auth/sasl", "auth/tls", "auth/oauthbearer", "auth/msk-iam", "auth/gssapi", "cutover/manual", "cutover/auto", "storage/sqlite", "storage/kafka"]) expect(r.stdout).toContain(`\n${name}: `.slice(name === "auth/sasl" ? 1 : 0));
    expect(r.stdout).toContain('    mechanism  PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512, default: "SCRAM-SHA-512"\n');
    expect(r.stdout).toContain("    password   string, required, secret\n");
    expect(r.stdout).toContain("            password: ${env:KLINK_SOURCE_PASSWORD}\n");
  });

  test("one plugin by name, a user plugin by path, JSON, and a near miss", async () => {
    expect((await klink("plugins", "sqlite")).stdout).toStartWith("storage/sqlite: Migration state in an SQLite file");
    const user = await klink("plugins", join(fixtures, "echo-auth.ts"));
    expect(user.stdout).toBe(
      ["auth/echo: Test plugin: sets client.id from `id`.", "  options:", "    id       string, required", "             the client id", "    retries  integer, default: 3"].join("\n"),
    );
    const json = JSON.parse((await klink("plugins", "--json")).stdout);
    expect(json.map((p: { kind: string; name: string }) => `${p.kind}/${p.name}`)).toEqual(["auth/sasl", "auth/tls", "auth/oauthbearer", "auth/msk-iam", "auth/gssapi", "cutover/manual", "cutover/auto", "storage/sqlite", "storage/kafka"]);
    const miss = await klink("plugins", "sasll");
    expect(miss.code).toBe(1);
    expect(miss.stderr).toBe("klink plugins: no built-in plugin 'sasll'; did you mean 'sasl'?; built-ins: sasl, tls, oauthbearer, msk-iam, gssapi, manual, auto, sqlite, kafka");
  });
});

describe("user plugins at run time", () => {
  test("an auth plugin from a file: its options validated with defaults, its properties used by the clients", async () => {
    const yaml = BASE.replace("    bootstrap: 127.0.0.1:9092\n", `    bootstrap: 127.0.0.1:9092\n    auth: { plugin: ./fixtures/echo-auth.ts, options: { id: from-plugin } }\n`);
    const dir = tempDir({ "migration.yaml": yaml });
    symlinkSync(fixtures, join(dir, "fixtures"));
    const { config } = await loadConfig(join(dir, "migration.yaml"));
    expect(config.clusters.source.auth!.options).toEqual({ id: "from-plugin", retries: 3 });
    const settings = await clientSettings(config, "source", true);
    expect(settings.config["client.id"]).toBe("from-plugin");
  });

  test("a cutover plugin exported as a default object", async () => {
    const dir = tempDir({ "migration.yaml": `${BASE}cutover: { plugin: ${fixtures}/default-export-cutover.ts }\n` });
    const { config } = await loadConfig(join(dir, "migration.yaml"));
    const cutover = await config.cutover.plugin.create({}, { configFile: "", configDir: dir, linkName: "test", readOnly: true });
    expect(cutover.handOff({ group: "g", sourceMembers: 0, targetMembers: 1, requested: false })).toEqual({ go: true });
  });

  test("a plugin method calling process.exit throws instead of ending klink", async () => {
    const dir = tempDir({ "migration.yaml": `${BASE}cutover: { plugin: ${fixtures}/exits-in-method.ts }\n` });
    const { config } = await loadConfig(join(dir, "migration.yaml"));
    const cutover = await startPlugin(config.cutover.plugin, {}, { configFile: "", configDir: dir, linkName: "test", readOnly: true }, "cutover");
    const ask = () => cutover.handOff({ group: "g", sourceMembers: 0, targetMembers: 1, requested: false });
    expect(ask).toThrow(`plugin ${fixtures}/exits-in-method.ts called process.exit(4): a plugin must throw an Error instead, and klink reports it`);
    expect(cutover.promote({ topic: "t", state: "mirroring", requested: false, sinceLastSourceWriteMs: null, groupsOnSource: 0 })).toEqual({ go: false, reason: "not yet" });
  });
});

test("the example migration.yaml starts with the schema comment editors read", () => {
  expect(readFileSync(join(repo, "migration.yaml"), "utf8").split("\n")[0]).toBe("# yaml-language-server: $schema=./migration.schema.json");
});
