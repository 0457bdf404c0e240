/**
 * One logger (issue 13, "Logging"; issue 14, "Secrets printed"): librdkafka's own lines reach
 * stderr through klink's logger (no raw `%N|...` lines), with levels and facility in json format,
 * `-q` and `-v` filter them, and a secret from ${env:} used as link.name and as client.id never
 * appears, in any escaping, in the log, in GET /status or in `klink status`.
 *
 * The target's `librdkafka:` sets a consumer property, which every producer klink opens warns
 * about (CONFWARN, syslog level 4), and `debug: generic`, which makes librdkafka log debug lines
 * (level 7): both come at every run, on clusters that work.
 */
import { afterAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import { readFileSync, writeFileSync } from "node:fs";
import { writeMigration } from "./klink-process.ts";
import { source, target, uniqueName, withAdmin } from "../helpers.ts";
import { Producer } from "../../src/rdkafka/index.ts";

const KLINK = process.env.KLINK_TEST_BIN ?? resolve(import.meta.dir, "../../dist/klink");
const LINK_SECRET = `lnk-${crypto.randomUUID().slice(0, 8)}-s3cr3t`;
/** Characters JSON and URLs escape, so an escaped copy would not contain the secret as it is. */
const CLIENT_SECRET = `cl/"${crypto.randomUUID().slice(0, 8)}" s3cr3t\\id`;
const ENV = { ...process.env, KLINK_LOG_LINK: LINK_SECRET, KLINK_LOG_CLIENT: CLIENT_SECRET };
const FORMS = [LINK_SECRET, CLIENT_SECRET, JSON.stringify(CLIENT_SECRET).slice(1, -1), encodeURIComponent(CLIENT_SECRET), CLIENT_SECRET.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")];
const started: Array<ReturnType<typeof Bun.spawn>> = [];
afterAll(() => started.forEach((p) => p.kill("SIGKILL")));

function spawn(args: string[]) {
  const proc = Bun.spawn([KLINK, ...args], { stdout: "pipe", stderr: "pipe", env: ENV });
  started.push(proc);
  return proc;
}

async function finished(proc: ReturnType<typeof spawn>) {
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** A one-partition topic with a few records, linked by a file whose link.name and target client.id are the secrets. */
async function setup(): Promise<{ file: string; listen: string }> {
  const topic = uniqueName("logging");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
  const producer = new Producer({ "bootstrap.servers": source().bootstrap });
  for (let i = 0; i < 10; i++) producer.produce({ topic, partition: 0, key: `k${i}`, value: `v${i}` });
  await producer.flush();
  await producer.close();
  const file = writeMigration({ topics: [topic], linkName: "${env:KLINK_LOG_LINK}" });
  const yaml = readFileSync(file, "utf8").replace(
    `target: { bootstrap: "${target().bootstrap}" }`,
    `target: { bootstrap: "${target().bootstrap}", librdkafka: { client.id: "\${env:KLINK_LOG_CLIENT}", fetch.wait.max.ms: 100, debug: generic } }`,
  );
  writeFileSync(file, yaml);
  return { file, listen: /listen: (\S+)/.exec(yaml)![1]! };
}

function expectNoSecret(text: string): void {
  for (const form of FORMS) expect(text).not.toContain(form);
}

const RAW_LIBRDKAFKA_LINE = /^%\d\|/m;

test("text format: librdkafka's lines through the logger, no debug lines, no secret in the log, GET /status or klink status", async () => {
  const { file, listen } = await setup();
  const run = spawn(["run", file]);
  let answer = "";
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await Bun.sleep(300)) {
    const res = await fetch(`http://${listen}/status`).catch(() => null);
    if (res?.status === 200) {
      answer = await res.text();
      break;
    }
  }
  expect(JSON.parse(answer).link).toBe("<redacted>");
  const status = await finished(spawn(["status", file]));
  run.kill("SIGTERM");
  const r = await finished(run);
  expect(status.code).toBe(0);
  expect(status.stdout).toContain("link <redacted> (id ");
  expectNoSecret(answer + status.stdout + status.stderr);
  expect(r.code).toBe(0);
  expect(r.stderr).not.toMatch(RAW_LIBRDKAFKA_LINE);
  expect(r.stderr).toMatch(/^\S+Z WARN librdkafka \S+#producer-\d+ CONFWARN: .*fetch.wait.max.ms is a consumer property/m);
  expect(r.stderr).toMatch(/^\S+Z mirroring 1 topic\(s\)/m);
  expect(r.stderr).not.toContain("DEBUG");
  expectNoSecret(r.stdout + r.stderr);
}, 240_000);

for (const [flag, expected] of [["-v", "debug"], ["-q", "quiet"], [null, "default"]] as const) {
  test(`json format${flag ? ` with ${flag}` : ""}: every line an object with time, level and msg; librdkafka's with facility and client; ${expected === "quiet" ? "no info lines" : expected === "debug" ? "debug lines" : "no debug lines"}`, async () => {
    const { file } = await setup();
    const r = await finished(spawn(["run", file, "--until-caught-up", "--log-format", "json", ...(flag ? [flag] : [])]));
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(RAW_LIBRDKAFKA_LINE);
    expectNoSecret(r.stdout + r.stderr);
    const lines = r.stderr.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { time: string; level: string; msg: string; facility?: string; client?: string; source?: string });
    for (const l of lines) {
      expect(Number.isNaN(Date.parse(l.time))).toBe(false);
      expect(["error", "warn", "info", "debug"]).toContain(l.level);
      expect(typeof l.msg).toBe("string");
    }
    const confwarn = lines.filter((l) => l.facility === "CONFWARN");
    expect(confwarn.length).toBeGreaterThan(0);
    for (const l of confwarn) expect(l).toMatchObject({ level: "warn", source: "librdkafka", client: expect.stringMatching(/^<redacted>#producer-\d+$/) });
    const levels = new Set(lines.map((l) => l.level));
    const debug = lines.filter((l) => l.level === "debug" && l.source === "librdkafka");
    if (expected === "debug") expect(debug.length).toBeGreaterThan(0);
    else expect(debug).toEqual([]);
    if (expected === "quiet") expect([...levels].filter((l) => l === "info" || l === "debug")).toEqual([]);
    else expect(lines.some((l) => l.level === "info" && l.msg.startsWith("mirroring 1 topic(s)"))).toBe(true);
  }, 240_000);
}
