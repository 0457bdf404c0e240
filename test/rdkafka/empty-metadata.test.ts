/**
 * A broker that has just restarted may answer a Metadata request with no brokers and no topics
 * (or with a top-level error). librdkafka's DescribeCluster and DescribeTopics then returned
 * "no error and no result", and librdkafka aborted the process on an assertion
 * (`rd_kafka_admin_response_parse: Assertion 'rko_result' failed`; nemesis seed 172: klink was
 * killed by SIGABRT while the target broker restarted). scripts/librdkafka-patches/ fixes the
 * parse to return the error. The broker here is a stand-in that speaks just enough of the Kafka
 * protocol (ApiVersions, then Metadata v8 with nothing in it); the client runs in a child
 * process, since before the fix it aborted.
 */
import { afterAll, expect, test } from "bun:test";
import { resolve } from "node:path";

const API_VERSIONS = 18;
const METADATA = 3;

function apiVersionsV3(): Buffer {
  const apis = [[API_VERSIONS, 0, 3], [METADATA, 0, 8]];
  const parts: Buffer[] = [Buffer.from([0, 0]), Buffer.from([apis.length + 1])]; // error 0; compact array length + 1
  for (const [key, min, max] of apis) {
    const b = Buffer.alloc(7);
    b.writeInt16BE(key!, 0);
    b.writeInt16BE(min!, 2);
    b.writeInt16BE(max!, 4);
    b.writeUInt8(0, 6); // no tagged fields
    parts.push(b);
  }
  parts.push(Buffer.from([0, 0, 0, 0, 0])); // throttle_time_ms, no tagged fields
  return Buffer.concat(parts);
}

/** Metadata v8: this stand-in as broker 1 and the controller, no topics (the client's first look). */
function selfMetadataV8(port: number): Buffer {
  const host = Buffer.from("127.0.0.1");
  const b = Buffer.alloc(4 + 4 + 4 + 2 + host.length + 4 + 2 + 2 + 4 + 4 + 4);
  let at = b.writeInt32BE(0, 0); // throttle_time_ms
  at = b.writeInt32BE(1, at); // brokers: one
  at = b.writeInt32BE(1, at); // node_id
  at = b.writeInt16BE(host.length, at);
  at += host.copy(b, at);
  at = b.writeInt32BE(port, at);
  at = b.writeInt16BE(-1, at); // rack: null
  at = b.writeInt16BE(-1, at); // cluster_id: null
  at = b.writeInt32BE(1, at); // controller_id
  at = b.writeInt32BE(0, at); // topics: none
  b.writeInt32BE(-2147483648, at); // cluster_authorized_operations: not asked
  return b;
}

/** Metadata v8: no brokers, no cluster id, no controller, no topics (what a broker just restarted may say). */
function emptyMetadataV8(): Buffer {
  const b = Buffer.alloc(4 + 4 + 2 + 4 + 4 + 4);
  let at = b.writeInt32BE(0, 0); // throttle_time_ms
  at = b.writeInt32BE(0, at); // brokers: none
  at = b.writeInt16BE(-1, at); // cluster_id: null
  at = b.writeInt32BE(-1, at); // controller_id
  at = b.writeInt32BE(0, at); // topics: none
  b.writeInt32BE(-2147483648, at); // cluster_authorized_operations: not asked
  return b;
}

let metadataAnswers = 0;
const server = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open(s) {
      (s as any).pending = Buffer.alloc(0);
    },
    data(s, chunk) {
      let buf = Buffer.concat([(s as any).pending, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const size = buf.readInt32BE(0);
        const apiKey = buf.readInt16BE(4);
        const correlation = buf.readInt32BE(8);
        buf = buf.subarray(4 + size);
        const body = apiKey === API_VERSIONS ? apiVersionsV3() : apiKey === METADATA ? (metadataAnswers++ === 0 ? selfMetadataV8(server.port) : emptyMetadataV8()) : null;
        if (!body) continue;
        const head = Buffer.alloc(8);
        head.writeInt32BE(4 + body.length, 0);
        head.writeInt32BE(correlation, 4);
        s.write(Buffer.concat([head, body]));
      }
      (s as any).pending = buf;
    },
  },
});
afterAll(() => server.stop(true));

const child = (call: string) => `
import { Admin } from ${JSON.stringify(resolve(import.meta.dir, "../../src/rdkafka/index.ts"))};
const admin = new Admin({ "bootstrap.servers": "127.0.0.1:${server.port}" }, { timeoutMs: 8000 });
try {
  await admin.${call};
  console.log("answered");
} catch (err) {
  console.log("refused: " + err.message);
} finally {
  admin.close();
}`;

for (const call of ["describeCluster()", "describeTopics(['t'])"]) {
  test(`${call} against a broker that answers Metadata with nothing: an error, not an abort`, async () => {
    metadataAnswers = 0;
    const proc = Bun.spawn([process.execPath, "-e", child(call)], { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect({ code, signal: proc.signalCode, aborted: /Assertion|abort/.test(err) }).toEqual({ code: 0, signal: null, aborted: false });
    expect(out).toMatch(/^(refused|answered)/);
  }, 60_000);
}
