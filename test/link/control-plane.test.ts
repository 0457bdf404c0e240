/**
 * The control plane of a running klink (issue 13, item 1): control requests need the token `klink
 * run` writes owner-only beside the YAML; a browser's cross-site request, a Host that does not
 * name the listener, malformed and oversized requests are refused, and none of them changes the
 * link: the topic stays linked and its records keep arriving on the target (read with another
 * client). A glob that makes a backtracking matcher explode answers and copying goes on. The
 * klink CLI sends the token itself, and the running klink logs who asked.
 */
import { test, expect, beforeAll, afterAll } from "bun:test";
import { existsSync, mkdtempSync, statSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { connect } from "node:net";
import { source, target, uniqueName, withAdmin } from "../helpers.ts";
import { writeMigration, KlinkRun, klink, steadyProducer, statusWhenRunning, stopAllKlinks } from "./klink-process.ts";

// Long enough for the glob below to explode a backtracking matcher (it needs 41 characters or more).
const topic = uniqueName("ctl-control-plane-topic-with-a-long-name");
const linkName = uniqueName("ctl-link");
let file: string;
let listen: string;
let run: KlinkRun;
let load: ReturnType<typeof steadyProducer>;

beforeAll(async () => {
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 2 }]));
  file = writeMigration({ topics: [topic], linkName });
  listen = /listen: (\S+)/.exec(readFileSync(file, "utf8"))![1]!;
  load = steadyProducer(source(), topic, 2, 5);
  run = new KlinkRun(file);
  await statusWhenRunning(file);
}, 120_000);

afterAll(async () => {
  await load?.stop();
  await stopAllKlinks();
});

/** One HTTP/1.1 request exactly as written (any Host, Origin, method), and the status code of the answer (0: none). */
function raw(request: string): Promise<{ code: number; text: string }> {
  const [host, port] = [listen.slice(0, listen.lastIndexOf(":")), Number(listen.slice(listen.lastIndexOf(":") + 1))];
  return new Promise((resolve) => {
    const socket = connect(port, host);
    let text = "";
    socket.on("data", (d) => (text += d));
    socket.on("close", () => resolve({ code: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text }));
    socket.on("error", () => {});
    socket.write(request);
  });
}

const tokenFile = () => join(dirname(file), "migration.klink.token");
/** The token klink wrote ("none" without one: an older klink wrote none). */
const token = () => (existsSync(tokenFile()) ? readFileSync(tokenFile(), "utf8").trim() : "none");
const promoteQuery = () => `/promote?link=${linkName}&name=${topic}&force=true`;
const post = (path: string, headers: string[] = []) => raw(`POST ${path} HTTP/1.1\r\nHost: ${listen}\r\n${headers.map((h) => `${h}\r\n`).join("")}Connection: close\r\n\r\n`);

/** The topic is still linked: `klink status` (read-only) says mirroring, and records produced now arrive on the target. */
async function stillCopying(): Promise<void> {
  const status = await klink(["status", file]);
  expect(status.stdout).toContain(`${topic} (mirroring)`);
  const marks = async (c: typeof source) => (await withAdmin(c(), (a) => a.watermarks([0, 1].map((partition) => ({ topic, partition }))))).map((m) => m.high);
  const before = await marks(source);
  await Bun.sleep(500); // the steady producer writes more meanwhile
  const sourceEnds = await marks(source);
  expect(sourceEnds.some((end, i) => end > before[i]!)).toBe(true);
  while ((await marks(target)).some((high, i) => high < sourceEnds[i]!)) await Bun.sleep(200);
}

test("klink run writes the control token readable by its owner only", () => {
  expect(statSync(tokenFile()).mode & 0o777).toBe(0o600);
  expect(token()).toMatch(/^[A-Za-z0-9_-]{43}$/);
});

test("a control request without the token, or with a wrong one, gets 401 and changes nothing", async () => {
  const none = await post(promoteQuery());
  expect(none.code).toBe(401);
  expect(none.text).toContain("no control token");
  const wrong = await post(promoteQuery(), [`Authorization: Bearer ${token().replace(/^./, (c) => (c === "A" ? "B" : "A"))}`]);
  expect(wrong.code).toBe(401);
  expect(wrong.text).toContain("wrong control token");
  const basic = await post(promoteQuery(), ["Authorization: Basic a2xpbms6a2xpbms="]);
  expect(basic.code).toBe(401);
  await stillCopying();
  expect(run.output).toMatch(/control: refused POST \/promote from 127\.0\.0\.1:\d+ \(no user agent\): no control token/);
}, 120_000);

test("a browser-style cross-site POST gets 403, even with the token", async () => {
  const evil = await post(promoteQuery(), ["Origin: http://evil.example", "Content-Type: text/plain", `Authorization: Bearer ${token()}`]);
  expect(evil.code).toBe(403);
  expect(evil.text).toContain("cross-site");
  const fetchSite = await post(promoteQuery(), ["Sec-Fetch-Site: cross-site", `Authorization: Bearer ${token()}`]);
  expect(fetchSite.code).toBe(403);
  await stillCopying();
}, 120_000);

test("a Host header that does not name the listener is refused on every endpoint (DNS rebinding)", async () => {
  for (const request of [
    `GET /status HTTP/1.1\r\nHost: evil.example:${listen.split(":")[1]}\r\nConnection: close\r\n\r\n`,
    `GET /status HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`,
    `POST ${promoteQuery()} HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer ${token()}\r\nConnection: close\r\n\r\n`,
  ]) {
    const r = await raw(request);
    expect(r.code).toBe(421);
    expect(r.text).not.toContain(linkName);
  }
  // The listener's own names are fine.
  expect((await raw(`GET /status HTTP/1.1\r\nHost: ${listen}\r\nConnection: close\r\n\r\n`)).code).toBe(200);
  expect((await raw(`GET /healthz HTTP/1.1\r\nHost: localhost:${listen.split(":")[1]}\r\nConnection: close\r\n\r\n`)).code).toBe(200);
  await stillCopying();
}, 120_000);

test("a glob that makes a backtracking matcher explode answers, and copying goes on", async () => {
  // '*?' × 20 then a letter the topic lacks: a regular expression backtracks for ages on the topic's 50 characters.
  const glob = `${"*?".repeat(20)}Z`;
  const r = await post(`/promote?link=${linkName}&name=${encodeURIComponent(glob)}`, [`Authorization: Bearer ${token()}`]);
  expect(r.code).toBe(409);
  expect(r.text).toContain("no linked topic matches");
  await stillCopying();
}, 120_000);

test("malformed and oversized requests get a 4xx and klink keeps answering", async () => {
  const auth = `Authorization: Bearer ${token()}`;
  const answers = [
    await raw("GARBAGE\r\n\r\n"),
    await raw(`GET /status?${"q".repeat(200_000)} HTTP/1.1\r\nHost: ${listen}\r\nConnection: close\r\n\r\n`),
    await raw(`GET /status?${"q".repeat(5_000)} HTTP/1.1\r\nHost: ${listen}\r\nConnection: close\r\n\r\n`),
    await raw(`POST /status HTTP/1.1\r\nHost: ${listen}\r\nContent-Length: 50000000\r\nConnection: close\r\n\r\n${"b".repeat(100_000)}`),
    await raw(`PUT /status HTTP/1.1\r\nHost: ${listen}\r\nConnection: close\r\n\r\n`),
    await raw(`DELETE ${promoteQuery()} HTTP/1.1\r\nHost: ${listen}\r\n${auth}\r\nConnection: close\r\n\r\n`),
    await raw(`GET ${promoteQuery()} HTTP/1.1\r\nHost: ${listen}\r\n${auth}\r\nConnection: close\r\n\r\n`),
    await post(`/promote?link=${linkName}&name=${"t".repeat(300)}`, [auth]),
    await post(`/promote?link=${linkName}&name=%E0%A4%A`, [auth]),
    await post(`/promote?link=${linkName}&name=orders%00x`, [auth]),
    await post(`/promote?link=${linkName}`, [auth]),
    await post(`/promote?name=${topic}`, [auth]),
  ];
  expect(answers.map((a) => a.code >= 400 && a.code < 500)).toEqual(answers.map(() => true));
  expect(answers.map((a) => a.code)).toEqual([400, 431, 414, 413, 405, 405, 405, 400, 400, 400, 400, 400]);
  await stillCopying();
}, 120_000);

test("the klink CLI without the token file is refused, saying where the token should be", async () => {
  const elsewhere = join(mkdtempSync(join(tmpdir(), "klink-ctl-")), "migration.yaml");
  writeFileSync(elsewhere, readFileSync(file, "utf8"));
  const r = await klink(["promote", elsewhere, topic, "--force"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`klink promote: no control token at ${join(dirname(elsewhere), "migration.klink.token")}`);
  await stillCopying();
}, 120_000);

test("the klink CLI sends the token itself; the running klink logs who asked", async () => {
  await load.stop(); // the producers have moved: promote waits until the topic is drained
  const promote = await klink(["promote", file, topic, "--force"]);
  expect(promote.stderr).toBe("");
  expect(promote.code).toBe(0);
  expect(promote.stdout).toContain(`${topic}: promoted`);
  expect(run.output).toMatch(new RegExp(`control: promote "${topic}" --force asked by 127\\.0\\.0\\.1:\\d+ \\(klink/\\S+ promote \\(\\S+@\\S+, pid \\d+\\)\\)`));
  expect((await klink(["status", file])).stdout).toContain(`${topic} (promoted)`);
}, 120_000);
