/**
 * The group client against real brokers: connect, ApiVersions, SASL / TLS, FindCoordinator and
 * DescribeGroups on every listener of the source (Kafka 3.9.2: PLAINTEXT, SASL_SSL SCRAM, SSL
 * mTLS, SASL_PLAINTEXT OAUTHBEARER) and on the target (Kafka 4.4.0), with settings made by
 * klink's auth plugins; and the failures an operator must be able to read.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:tls";
import { describeGroup, GroupClient, ConnectionError } from "../../src/group/index.ts";
import { DescribeGroups, FindCoordinator, Heartbeat, JoinGroup, LeaveGroup, OffsetCommit, OffsetFetch, SaslAuthenticate, SyncGroup } from "../../src/group/messages.ts";
import { source, target, uniqueName } from "../helpers.ts";
import { groupSettings, unsecuredJwt, type GroupListener } from "./settings.ts";

setDefaultTimeout(60_000);

const clients: GroupClient[] = [];
function client(...args: ConstructorParameters<typeof GroupClient>): GroupClient {
  const c = new GroupClient(...args);
  clients.push(c);
  return c;
}
afterAll(() => {
  for (const c of clients) c.close();
});

/** The listener's port in a bootstrap string. */
const portOf = (bootstrap: string) => Number(bootstrap.split(",")[0]!.split(":").pop());

describe("every listener: ApiVersions, authentication, FindCoordinator, DescribeGroups", () => {
  const cases: Array<[string, () => ReturnType<typeof groupSettings>, () => string]> = [
    ["source PLAINTEXT (3.9.2)", () => groupSettings(source(), "plaintext"), () => source().bootstrap],
    ["source SASL_SSL SCRAM-SHA-512", () => groupSettings(source(), "scram-sha-512"), () => source().security!.saslSslBootstrap],
    ["source SASL_SSL SCRAM-SHA-256 (user alice)", () => groupSettings(source(), "scram-sha-256"), () => source().security!.saslSslBootstrap],
    ["source SSL mTLS, PEM certificate and key", () => groupSettings(source(), "mtls-pem"), () => source().security!.sslBootstrap],
    ["source SSL mTLS, PKCS#12 keystore", () => groupSettings(source(), "mtls-p12"), () => source().security!.sslBootstrap],
    ["source SASL_PLAINTEXT OAUTHBEARER (token from the oauthbearer plugin)", () => groupSettings(source(), "oauthbearer"), () => source().security!.oauthBootstrap],
    ["target PLAINTEXT (4.4.0)", () => groupSettings(target(), "plaintext"), () => target().bootstrap],
  ];

  for (const [name, settings, bootstrap] of cases) {
    test(name, async () => {
      const c = client(settings());
      const conn = await c.anyBroker();
      const versions = Object.fromEntries(
        [FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups].map((api) => [api.name, conn.versionOf(api)]),
      );
      const onTarget = name.startsWith("target");
      expect(versions).toEqual({
        FindCoordinator: 6,
        JoinGroup: 9,
        SyncGroup: 5,
        Heartbeat: 4,
        LeaveGroup: 5,
        OffsetCommit: 9,
        OffsetFetch: 7,
        DescribeGroups: onTarget ? 6 : 5,
      });
      if (/SASL|OAUTH/.test(name)) expect(conn.versionOf(SaslAuthenticate)).toBe(2);

      const group = uniqueName("connect");
      // the coordinator is advertised on the listener the client came through
      const coordinator = await c.coordinator(group);
      expect(coordinator).toEqual({ host: "127.0.0.1", port: portOf(bootstrap()) });
      expect(await describeGroup(c, group)).toEqual({ groupId: group, state: "Dead", protocolType: "", protocol: "", members: [] });
    });
  }
});

describe("failures say what went wrong", () => {
  const s = () => source().security!;

  async function failure(settings: ReturnType<typeof groupSettings>): Promise<ConnectionError> {
    const c = client(settings);
    const started = Date.now();
    const err = await c.coordinator(uniqueName("fail")).then(
      () => null,
      (e) => e,
    );
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.fatal).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000); // refused at once, not retried until a timeout
    return err;
  }

  test("a wrong SCRAM password: the broker's reason, not the password", async () => {
    const settings = groupSettings(source(), "scram-sha-512");
    settings.config["sasl.password"] = "not-the-admin-secret";
    const err = await failure(settings);
    expect(err.message).toContain("SASL SCRAM-SHA-512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512");
    expect(err.message).not.toContain("not-the-admin-secret");
  });

  test("a mechanism the listener does not offer", async () => {
    const settings = groupSettings(source(), "scram-sha-512");
    settings.config["sasl.mechanism"] = "PLAIN";
    expect((await failure(settings)).message).toContain("SASL mechanism PLAIN is not enabled on this listener (it offers SCRAM-SHA-512, SCRAM-SHA-256)");
  });

  test("mTLS listener without a client certificate", async () => {
    const err = await failure({ config: { "bootstrap.servers": s().sslBootstrap, "security.protocol": "ssl", "ssl.ca.location": s().caPem } });
    expect(err.message).toContain("TLS: the broker refused the handshake");
    expect(err.message).toContain("does this listener require a client certificate");
  });

  test("a broker certificate signed by a CA that is not trusted", async () => {
    const err = await failure({ config: { "bootstrap.servers": s().sslBootstrap, "security.protocol": "ssl", "ssl.certificate.location": s().clientCertPem, "ssl.key.location": s().clientKeyPem } });
    expect(err.message).toContain("TLS: certificate verify failed");
  });

  test("an expired OAUTHBEARER token: the broker's status", async () => {
    const err = await failure({ config: { "bootstrap.servers": s().oauthBootstrap, "security.protocol": "sasl_plaintext", "sasl.mechanism": "OAUTHBEARER" }, token: async () => unsecuredJwt("admin", -60) });
    expect(err.message).toContain('SASL OAUTHBEARER authentication failed: the broker refused the token: {"status":"invalid_token"}');
  });

  test("plaintext spoken to a TLS listener, and TLS to a plaintext one", async () => {
    expect((await failure({ config: { "bootstrap.servers": s().sslBootstrap } })).message).toContain("is this a TLS listener? then security.protocol must be ssl or sasl_ssl");
    expect((await failure({ config: { "bootstrap.servers": source().bootstrap, "security.protocol": "ssl", "ssl.ca.location": s().caPem } })).message).toContain(
      "if not, security.protocol must be plaintext or sasl_plaintext",
    );
  });
});

describe("one connection", () => {
  test("many requests in flight at once each get their own answer (correlation ids)", async () => {
    const c = client(groupSettings(target(), "plaintext"));
    const conn = await c.anyBroker();
    const groups = Array.from({ length: 30 }, (_, i) => uniqueName(`inflight-${i}`));
    const answers = await Promise.all(groups.map((g) => conn.request(DescribeGroups, { groups: [g], includeAuthorizedOperations: false })));
    expect(answers.map((a) => a.groups[0]!.groupId)).toEqual(groups);
  });

  test("a broker that never answers: set-up fails after socket.connection.setup.timeout.ms", async () => {
    const { createServer: createTcpServer } = await import("node:net");
    const sockets: import("node:net").Socket[] = [];
    const silent = createTcpServer((s) => sockets.push(s));
    await new Promise<void>((res) => silent.listen(0, "127.0.0.1", () => res()));
    try {
      const port = (silent.address() as { port: number }).port;
      const started = Date.now();
      const err = await client({ config: { "bootstrap.servers": `127.0.0.1:${port}`, "socket.connection.setup.timeout.ms": 1000 } })
        .anyBroker()
        .then(() => null, (e) => e);
      expect(err).toBeInstanceOf(ConnectionError);
      expect(err.message).toContain("connection set-up (ApiVersions) took longer than 1000 ms");
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});

describe("TLS hostname verification (ssl.endpoint.identification.algorithm)", () => {
  let proxy: Server;
  let port = 0;

  /** A TLS front for the source's plaintext listener whose certificate, signed by the test CA, names only wrong.example. */
  async function startProxy(): Promise<void> {
    const certs = join(source().dir, "certs");
    const dir = mkdtempSync(join(tmpdir(), "klink-group-tls-"));
    writeFileSync(join(dir, "ext"), "subjectAltName=DNS:wrong.example\n");
    const run = (argv: string[]) => {
      const r = Bun.spawnSync(argv, { cwd: dir, stdout: "pipe", stderr: "pipe" });
      if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString()}`);
    };
    run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "wrong.key", "-out", "wrong.csr", "-subj", "/CN=wrong.example"]);
    run(["openssl", "x509", "-req", "-in", "wrong.csr", "-CA", join(certs, "ca.pem"), "-CAkey", join(certs, "ca.key"), "-set_serial", "7", "-out", "wrong.pem", "-days", "2", "-extfile", "ext"]);
    const [host, plainPort] = source().bootstrap.split(",")[0]!.split(":");
    proxy = createServer({ key: readFileSync(join(dir, "wrong.key")), cert: readFileSync(join(dir, "wrong.pem")) }, (front) => {
      const back = tcpConnect({ host: host!, port: Number(plainPort) });
      front.pipe(back).pipe(front);
      front.on("error", () => back.destroy());
      back.on("error", () => front.destroy());
    });
    await new Promise<void>((res) => proxy.listen(0, "127.0.0.1", () => res()));
    port = (proxy.address() as { port: number }).port;
  }

  afterAll(() => proxy?.close());

  test("https (the default) refuses a certificate for another name; none accepts it", async () => {
    await startProxy();
    const config = { "bootstrap.servers": `127.0.0.1:${port}`, "security.protocol": "ssl", "ssl.ca.location": source().security!.caPem };
    const refused = await client({ config }).anyBroker().then(() => null, (e) => e);
    expect(refused).toBeInstanceOf(ConnectionError);
    expect(refused.message).toContain("its certificate does not name this host (ssl.endpoint.identification.algorithm=https)");

    // the same certificate chain is still verified: only the name check is off
    const conn = await client({ config: { ...config, "ssl.endpoint.identification.algorithm": "none" } }).anyBroker();
    expect(conn.versionOf(JoinGroup)).toBe(9);
    const untrusted = await client({ config: { "bootstrap.servers": `127.0.0.1:${port}`, "security.protocol": "ssl", "ssl.endpoint.identification.algorithm": "none" } })
      .anyBroker()
      .then(() => null, (e) => e);
    expect(untrusted?.message).toContain("certificate verify failed");
  });
});

describe("KIP-368: a SASL session ends with its OAUTHBEARER token", () => {
  test("requests keep working across several token lifetimes: the client reconnects with a fresh token", async () => {
    let tokens = 0;
    const c = client({
      config: { "bootstrap.servers": source().security!.oauthBootstrap, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "OAUTHBEARER" },
      token: async () => {
        tokens++;
        return unsecuredJwt("admin", 4);
      },
    });
    const group = uniqueName("reauth");
    const [host, port] = source().security!.oauthBootstrap.split(",")[0]!.split(":");
    const until = Date.now() + 13_000;
    let requests = 0;
    while (Date.now() < until) {
      // straight on the connection, no retries: a request on a session past its end would fail
      const conn = await c.connection({ host: host!, port: Number(port) });
      const r = await conn.request(DescribeGroups, { groups: [group], includeAuthorizedOperations: false });
      expect(r.groups[0]!.groupState).toBe("Dead");
      requests++;
      await Bun.sleep(250);
    }
    expect(requests).toBeGreaterThan(20);
    // a new session (and token) at 80% of each 4 s lifetime: at least 4 over 13 s
    expect(tokens).toBeGreaterThanOrEqual(4);
  });
});
