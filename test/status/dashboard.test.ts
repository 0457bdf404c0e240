/**
 * The dashboard page (issue 13, item 8), loaded in headless Chromium (Debian's `chromium`) from a
 * klink running a link against the test clusters: the rendered DOM holds the live topic, each
 * partition's lag and mode (one stopped, with a lag the test knows from what it wrote), the group's
 * state and a lag chart line. The screenshot is kept in the test's temp dir (its path is printed).
 */
import { test, expect, afterAll } from "bun:test";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin } from "../helpers.ts";
import { writeMigration, KlinkRun, stopAllKlinks, statusWhenRunning } from "../link/klink-process.ts";

afterAll(stopAllKlinks);

const CHROMIUM = process.env.KLINK_TEST_CHROMIUM ?? "chromium";

async function produce(topic: string, partition: number, values: Buffer[]): Promise<void> {
  const p = new Producer(plain(source(), { "linger.ms": 5 }));
  for (const value of values) p.produce({ topic, partition, value });
  await p.flush();
  await p.close();
}

/** Headless Chromium on `url`, with a fresh profile; lets the page's scripts run (and fetch) for a few seconds. */
async function chromium(dir: string, url: string, output: string[]): Promise<string> {
  const proc = Bun.spawn(
    [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", `--user-data-dir=${join(dir, "profile")}`,
      "--window-size=1100,1000", "--virtual-time-budget=5000", ...output, url],
    { stdout: "pipe", stderr: "pipe" },
  );
  const timer = setTimeout(() => proc.kill("SIGKILL"), 120_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`chromium exited with ${code}: ${stderr}`);
  return stdout;
}

/** The `<tr data-key="KEY">` row of the rendered DOM. */
function row(dom: string, key: string): string {
  const start = dom.indexOf(`<tr data-key="${key}">`);
  if (start < 0) throw new Error(`no row ${key} in the page:\n${dom}`);
  return dom.slice(start, dom.indexOf("</tr>", start));
}

test("the dashboard page shows the running link's topics, partition lag and mode, group state and lag chart in headless Chromium", async () => {
  const dir = mkdtempSync(join(tmpdir(), "klink-dashboard-"));
  const topic = uniqueName("dash");
  const group = uniqueName("dash-group");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 2, configs: { "max.message.bytes": "200000" } }]));
  await withAdmin(target(), (a) => a.createTopics([{ name: topic, partitions: 2, configs: { "max.message.bytes": "20000" } }]));
  const small = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`v${i}`));
  await produce(topic, 0, [...small(100), Buffer.alloc(100_000, 1), ...small(50)]); // offset 100 is too large for the target: partition 0 stops there, 51 behind
  await produce(topic, 1, small(100));
  await withAdmin(source(), (a) => a.alterConsumerGroupOffsets(group, [0, 1].map((partition) => ({ topic, partition, offset: 10 }))));

  const file = writeMigration({ topics: [topic], linkName: uniqueName("dash"), extra: `groups:\n  names: [${group}]\n` });
  const listen = /listen: (\S+)/.exec(readFileSync(file, "utf8"))![1]!;
  const run = new KlinkRun(file);
  try {
    for (let s = await statusWhenRunning(file); ; s = await statusWhenRunning(file)) {
      const [p0, p1] = [0, 1].map((i) => s.partitions.find((p: any) => p.partition === i));
      if (p0?.error && p1?.next === 100 && s.groups?.[0]?.state === "fenced") break;
      if (run.exited) throw new Error(run.summary());
      await Bun.sleep(300);
    }

    // Read-only, like /status: no token; the Host header must name the listener; it takes GET only.
    const page = await fetch(`http://${listen}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(await page.text()).toContain('<svg id="lag-chart"');
    expect((await fetch(`http://${listen}/dashboard`, { headers: { host: "evil.example" } })).status).toBe(421);
    expect((await fetch(`http://${listen}/dashboard`, { method: "POST" })).status).toBe(405);

    const url = `http://${listen}/dashboard`;
    const dom = await chromium(dir, url, ["--dump-dom"]);
    expect(dom).toContain(`<span id="health" class="bad">1 partition(s) STOPPED</span>`);
    expect(row(dom, topic)).toContain(`<td>${topic}</td><td>mirroring</td><td class="n">2</td>`);
    expect(row(dom, topic)).toContain(`<td class="n lag">51</td>`);
    const p0 = row(dom, `${topic}[0]`);
    expect(p0).toContain(`<td class="mode">exact</td><td class="n">100</td><td class="n">151</td><td class="n lag">51</td>`);
    expect(p0).toContain("record at offset 100 is 100000 bytes");
    expect(row(dom, `${topic}[1]`)).toContain(`<td class="mode">exact</td><td class="n">100</td><td class="n">100</td><td class="n lag">0</td>`);
    expect(row(dom, group)).toContain(`<td class="state">fenced</td>`);
    expect(dom).toMatch(new RegExp(`<polyline data-topic="${topic}"[^>]* points="[\\d.]+,[\\d.]+( [\\d.]+,[\\d.]+)*"`));

    const screenshot = join(dir, "dashboard.png");
    await chromium(dir, url, [`--screenshot=${screenshot}`]);
    expect(readFileSync(screenshot).subarray(1, 4).toString()).toBe("PNG");
    expect(statSync(screenshot).size).toBeGreaterThan(10_000);
    console.log(`dashboard screenshot: ${screenshot}`);
  } finally {
    await run.stop();
  }
}, 300_000);
