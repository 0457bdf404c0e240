/**
 * auth/gssapi against a real MIT Kerberos KDC (test/harness/kerberos.ts) and a Kafka 3.9.2 cluster
 * of this test's own with a SASL_PLAINTEXT GSSAPI listener: klink's group-protocol client
 * authenticates with Kerberos, `klink plan` and `klink run --until-caught-up` copy a topic from the
 * GSSAPI listener to the shared target (checked offset by offset by a plain consumer on both
 * clusters), a group is handed off with klink's group client on the GSSAPI listener, and a stale
 * keytab gives one clear line.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { dlopen, FFIType } from "bun:ffi";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as gssapi from "../../plugins/auth/gssapi.ts";
import { ConnectionError, describeGroup, GroupClient } from "../../src/group/index.ts";
import { DescribeGroups, SaslAuthenticate } from "../../src/group/messages.ts";
import { Producer } from "../../src/rdkafka/index.ts";
import { startCluster, stopCluster, type KafkaCluster } from "../harness/cluster.ts";
import { REAUTH_MS, SHORT_TICKET_SECONDS, startKdc, type Kdc } from "../harness/kerberos.ts";
import { readClusters } from "../harness/state.ts";
import { pluginContext } from "../group/settings.ts";
import { plain, target, uniqueName, until, withAdmin } from "../helpers.ts";
import { exactDifferences } from "../link/exact-check.ts";
import { freePort, klink, KlinkRun, stopAllKlinks } from "../link/klink-process.ts";

setDefaultTimeout(600_000);
const CLUSTER = "gssapi-source";

let kdc: Kdc | undefined;
let own: KafkaCluster;
const clients: GroupClient[] = [];

/** Kerberos reads KRB5_CONFIG from the C library's environment, which Bun's process.env does not write. */
function useKrb5Config(path: string): void {
  const libc = dlopen("libc.so.6", { setenv: { args: [FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 } });
  libc.symbols.setenv(Buffer.from("KRB5_CONFIG\0"), Buffer.from(`${path}\0`), 1);
  libc.close();
  process.env.KRB5_CONFIG = path; // for the klink processes this test starts
}

beforeAll(async () => {
  kdc = await startKdc();
  useKrb5Config(kdc.krb5Conf);
  own = await startCluster({ name: CLUSTER, version: "3.9.2", extraListener: kdc.listener });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await stopAllKlinks();
  const recorded = readClusters()[CLUSTER]; // also when start-up failed half-way
  if (recorded) await stopCluster(recorded);
  await kdc?.stop();
});

const gssapiBootstrap = () => own.extraListener!.bootstrap;

/** A migration.yaml reading the GSSAPI listener of `own`, writing to the shared target. */
function migration(opts: { topics: string[]; principal?: string; keytab?: string | null; extra?: string }): string {
  const dir = mkdtempSync(join(tmpdir(), "klink-gssapi-"));
  const file = join(dir, "migration.yaml");
  writeFileSync(
    file,
    `clusters:
  source:
    bootstrap: "${gssapiBootstrap()}"
    auth:
      plugin: gssapi
      options:
        principal: ${opts.principal ?? kdc!.client.principal}
${opts.keytab === null ? "" : `        keytab: ${opts.keytab ?? kdc!.client.keytab}\n`}        tls: false
  target: { bootstrap: "${target().bootstrap}" }
link:
  name: ${uniqueName("gssapi")}
  topics: { names: [${opts.topics.join(", ")}] }
  start: earliest
  offsets: exact
status:
  listen: 127.0.0.1:${freePort()}
${opts.extra ?? ""}`,
  );
  return file;
}

async function produce(topic: string, partitions: number, count: number): Promise<void> {
  const producer = new Producer(plain(own));
  for (let i = 0; i < count; i++) producer.produce({ topic, partition: i % partitions, key: `k${i}`, value: `v${i}` });
  await producer.flush();
  await producer.close();
}

describe("klink's group client", () => {
  test("ApiVersions, SASL GSSAPI, FindCoordinator, DescribeGroups on the Kerberos listener (settings from auth/gssapi)", async () => {
    const auth = gssapi.create({ principal: kdc!.client.principal, keytab: kdc!.client.keytab, serviceName: "kafka", tls: false }, pluginContext());
    // the plugin pointed this process at its ticket cache: the klink processes started later must not inherit that
    delete process.env.KRB5CCNAME;
    delete process.env.KRB5_CLIENT_KTNAME;
    expect(auth.properties).toMatchObject({ "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "GSSAPI", "sasl.kerberos.service.name": "kafka" });
    const c = new GroupClient({ config: { "bootstrap.servers": gssapiBootstrap(), ...auth.properties } });
    clients.push(c);
    const conn = await c.anyBroker();
    expect(conn.versionOf(SaslAuthenticate)).toBe(2);
    const group = uniqueName("gssapi-connect");
    expect(await c.coordinator(group)).toEqual({ host: "127.0.0.1", port: Number(gssapiBootstrap().split(":")[1]) });
    expect(await describeGroup(c, group)).toEqual({ groupId: group, state: "Dead", protocolType: "", protocol: "", members: [] });
  });

  test("a stale keytab: refused at once, with the KDC's reason and what to do", async () => {
    const c = new GroupClient({
      config: {
        "bootstrap.servers": gssapiBootstrap(),
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "GSSAPI",
        "sasl.kerberos.principal": kdc!.client.principal,
        "sasl.kerberos.keytab": kdc!.staleKeytab,
      },
    });
    clients.push(c);
    const err = await c.coordinator(uniqueName("gssapi-stale")).then(() => null, (e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.fatal).toBe(true);
    expect(err.message).toContain(`SASL GSSAPI: Kerberos login as ${kdc!.client.principal} with keytab ${kdc!.staleKeytab}: `);
    expect(err.message).toContain("the keytab does not hold the principal's current keys");
  });

  test("a service principal the KDC does not know: its name, from the KDC", async () => {
    const c = new GroupClient({
      config: {
        "bootstrap.servers": gssapiBootstrap(),
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "GSSAPI",
        "sasl.kerberos.service.name": "not-kafka",
        "sasl.kerberos.principal": kdc!.client.principal,
        "sasl.kerberos.keytab": kdc!.client.keytab,
      },
    });
    clients.push(c);
    const err = await c.coordinator(uniqueName("gssapi-service")).then(() => null, (e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.message).toContain("Server not-kafka/127.0.0.1@KLINK.TEST not found in Kerberos database");
  });
});

/** AS requests the KDC has answered for `principal`: one per ticket-granting ticket a client got (from its keytab). */
function ticketsIssued(principal: string): number {
  const log = readFileSync(join(kdc!.dir, "kdc.log"), "utf8");
  return log.split("\n").filter((l) => l.includes("AS_REQ") && l.includes("ISSUE") && l.includes(`${principal} for krbtgt/`)).length;
}

describe("tickets that expire while klink runs (the listener ends sessions every REAUTH_MS, KIP-368)", () => {
  test("the group client gets new tickets from the keytab and keeps working", async () => {
    const { principal, keytab } = kdc!.shortLived;
    const c = new GroupClient({ config: { "bootstrap.servers": gssapiBootstrap(), "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "GSSAPI", "sasl.kerberos.principal": principal, "sasl.kerberos.keytab": keytab } });
    clients.push(c);
    const before = ticketsIssued(principal);
    const group = uniqueName("gssapi-renew");
    await describeGroup(c, group); // retried until the new cluster's group coordinator answers
    const coordinator = await c.coordinator(group);
    const connections = new Set<unknown>();
    const end = Date.now() + 3 * SHORT_TICKET_SECONDS * 1000;
    while (Date.now() < end) {
      // straight on the connection, no retries: a request on a session past its end would fail
      const conn = await c.connection(coordinator);
      connections.add(conn);
      const r = await conn.request(DescribeGroups, { groups: [group], includeAuthorizedOperations: false });
      expect(r.groups[0], JSON.stringify(r.groups[0])).toMatchObject({ errorCode: 0, groupState: "Dead" });
      await Bun.sleep(500);
    }
    // a new session before each end (80% of REAUTH_MS), each with a valid ticket
    expect(connections.size).toBeGreaterThanOrEqual(Math.floor((3 * SHORT_TICKET_SECONDS * 1000) / REAUTH_MS));
    expect(ticketsIssued(principal) - before).toBeGreaterThanOrEqual(3); // at half of each 20 s lifetime, over 60 s
  });

  test("klink run (librdkafka, Cyrus SASL) gets new tickets from the keytab and keeps copying", async () => {
    const { principal, keytab } = kdc!.shortLived;
    const topic = uniqueName("gssapi-renew");
    await withAdmin(own, (a) => a.createTopics([{ name: topic, partitions: 2 }]));
    const file = migration({ topics: [topic], principal, keytab });
    const before = ticketsIssued(principal);
    const run = new KlinkRun(file);
    const batches = Math.ceil((3 * SHORT_TICKET_SECONDS) / 5);
    for (let i = 0; i < batches; i++) {
      await produce(topic, 2, 100);
      await Bun.sleep(5_000);
      expect(run.exited, run.summary()).toBe(false);
    }
    const caughtUp = async () => {
      const r = await klink(["status", file]);
      return / lag 0\b/.test(r.stdout);
    };
    await until("klink caught up", caughtUp, 120_000, run);
    await run.stop();
    expect(await exactDifferences(own, target(), topic, 2)).toEqual([]);
    expect(ticketsIssued(principal) - before).toBeGreaterThanOrEqual(3); // at half of each 20 s lifetime, over 60 s
  });
});

describe("klink plan and run", () => {
  test("plan, then run --until-caught-up copy a topic from the Kerberos listener at identical offsets", async () => {
    const topic = uniqueName("gssapi");
    await withAdmin(own, (a) => a.createTopics([{ name: topic, partitions: 3 }]));
    await produce(topic, 3, 600);
    const file = migration({ topics: [topic] });

    const plan = await klink(["plan", file]);
    expect(plan.stderr).toBe("");
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain(topic);

    const run = await klink(["run", file, "--until-caught-up"], 300_000);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(await exactDifferences(own, target(), topic, 3)).toEqual([]);
  });

  test("a stale keytab: plan and run stop at start with one line that says why", async () => {
    const topic = uniqueName("gssapi-stale");
    await withAdmin(own, (a) => a.createTopics([{ name: topic, partitions: 1 }]));
    const file = migration({ topics: [topic], keytab: kdc!.staleKeytab });
    for (const command of ["plan", "run"]) {
      const r = await klink([command, file], 60_000);
      expect(r.code).not.toBe(0);
      const lines = r.stderr.trim().split("\n");
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toContain(`Kerberos login as ${kdc!.client.principal} with keytab ${kdc!.staleKeytab}`);
      expect(lines[0]).toContain("the keytab does not hold the principal's current keys");
    }
  });

  test("without Cyrus SASL's GSSAPI module: one line naming the Debian package", async () => {
    const file = migration({ topics: [uniqueName("gssapi-nomech")] });
    process.env.SASL_PATH = mkdtempSync(join(tmpdir(), "klink-no-sasl-modules-")); // Cyrus looks for its modules there only
    try {
      const r = await klink(["plan", file], 60_000);
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1);
      expect(r.stderr).toContain("Cyrus SASL, which librdkafka uses, has no GSSAPI mechanism");
      expect(r.stderr).toContain("install the Debian package libsasl2-modules-gssapi-mit");
    } finally {
      delete process.env.SASL_PATH;
    }
  });

  test("without a keytab: the tickets kinit left in the ticket cache; none there: one line that says to run kinit", async () => {
    const topic = uniqueName("gssapi-kinit");
    await withAdmin(own, (a) => a.createTopics([{ name: topic, partitions: 1 }]));
    await produce(topic, 1, 50);
    const file = migration({ topics: [topic], keytab: null });
    const cache = `FILE:${join(mkdtempSync(join(tmpdir(), "klink-ccache-")), "cc")}`;
    process.env.KRB5CCNAME = cache;
    try {
      const empty = await klink(["plan", file], 60_000);
      expect(empty.code).not.toBe(0);
      expect(empty.stderr.trim().split("\n"), empty.stderr).toHaveLength(1);
      expect(empty.stderr).toContain(`Kerberos login as ${kdc!.client.principal} from the ticket cache`);
      expect(empty.stderr).toContain("run kinit, or give a keytab");

      const kinit = Bun.spawnSync(["kinit", "-k", "-t", kdc!.client.keytab, "-c", cache, kdc!.client.principal], { env: process.env, stderr: "pipe" });
      expect(kinit.exitCode, kinit.stderr.toString()).toBe(0);
      const run = await klink(["run", file, "--until-caught-up"], 300_000);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(await exactDifferences(own, target(), topic, 1)).toEqual([]);
    } finally {
      delete process.env.KRB5CCNAME;
    }
  });

  test("a group is handed off, klink's group client fencing it on the Kerberos listener", async () => {
    const topic = uniqueName("gssapi-handoff");
    const group = uniqueName("gssapi-group");
    await withAdmin(own, (a) => a.createTopics([{ name: topic, partitions: 2 }]));
    await produce(topic, 2, 200);
    // the group has read part of the topic on the source and left it
    const committed = [{ topic, partition: 0, offset: 40 }, { topic, partition: 1, offset: 70 }];
    await withAdmin(own, (a) => a.alterConsumerGroupOffsets(group, committed));

    const file = migration({ topics: [topic], extra: `groups:\n  names: [${group}]\n` });
    const run = new KlinkRun(file);
    const groupState = async () => {
      const r = await klink(["status", file, "--json"]);
      return r.code === 0 ? JSON.parse(r.stdout).groups?.[0]?.state : undefined;
    };
    await until("the group fenced on the source", async () => (await groupState()) === "fenced", 180_000, run);
    const handoff = await klink(["handoff", file, group]);
    expect(handoff.code, handoff.stdout + handoff.stderr).toBe(0);
    await until("the group handed off", async () => (await groupState()) === "handed-off", 180_000, run);
    await run.stop();

    const onTarget = await withAdmin(target(), (a) => a.listConsumerGroupOffsets(group, [{ topic, partition: 0 }, { topic, partition: 1 }]));
    expect(onTarget.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset }))).toEqual(committed);
  });
});
