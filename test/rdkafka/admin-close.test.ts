/**
 * Closing an Admin while its requests are in flight, or asking it after close, must never touch a
 * freed librdkafka handle: a catch-up `klink run` crashed with "Segmentation fault at address 0x10"
 * inside rd_kafka_ListOffsets (mtx_lock on a freed client's queue, read from a core dump) when a
 * watermarks request went on after its caller had closed the Admin.
 */
import { expect, test } from "bun:test";
import { source, uniqueName, withAdmin } from "../helpers.ts";

test("an Admin closed with requests in flight: they settle, later requests are refused, nothing crashes", async () => {
  const topic = uniqueName("admin-close");
  await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 2 }]));
  const proc = Bun.spawn(["bun", `${import.meta.dir}/admin-after-close.ts`, source().bootstrap, topic], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect({ code, signal: proc.signalCode, tail: err.slice(-400) }).toEqual({ code: 0, signal: null, tail: expect.any(String) });
  const lines = out.trim().split("\n");
  expect(lines.at(-1)).toBe("done");
  for (const l of lines.slice(0, -1)) expect(l).toMatch(/^in flight: (answered|refused _DESTROY); after close: refused _DESTROY$/);
}, 120_000);
