// Checks the harness's clusters with Kafka's own Java tools.
// Needs the clusters up first: bun test/harness/cli.ts up
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { isAnswering, killBroker, restartBroker, type KafkaCluster } from "./cluster.ts";
import { getCluster, isOurs, readClusters } from "./state.ts";
import {
  clientProps,
  consumedCount,
  consumerGroupsTool,
  consumerPerformance,
  createTopic,
  producerPerformance,
  stopAllTools,
  verifiableConsumer,
  verifiableProducer,
} from "./tools.ts";

const T = 120_000;
const unique = (s: string) => `${s}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

// a failed assertion must not leave a tool JVM running
afterEach(stopAllTools);
afterAll(stopAllTools);

for (const name of ["source", "target"]) {
  describe(`${name} cluster`, () => {
    const c = (): KafkaCluster => getCluster(name);

    test("ProducerPerformance 10k records, ConsumerPerformance reads them all", async () => {
      const topic = unique("perf");
      await createTopic(c(), topic, { partitions: 3 });
      const p = await producerPerformance(c(), { topic, numRecords: 10_000, recordSize: 200 });
      expect(p.records).toBe(10_000);
      expect(p.recordsPerSec).toBeGreaterThan(0);
      const r = await consumerPerformance(c(), { topic, numRecords: 10_000 });
      expect(r.records).toBe(10_000);
      expect(r.mb).toBeGreaterThan(1.9); // 10k x 200 B
    }, T);

    test("VerifiableProducer -> VerifiableConsumer in a group: every acked record is consumed", async () => {
      const topic = unique("verify");
      const group = unique("group");
      const n = 2_000;
      await createTopic(c(), topic, { partitions: 3 });

      const prod = await verifiableProducer(c(), { topic, maxMessages: n });
      expect(await prod.exited).toBe(0);
      const ev = prod.collected();
      const acked = ev.filter((e) => e.name === "producer_send_success").length;
      expect(ev.some((e) => e.name === "producer_send_error")).toBe(false);
      expect(ev.find((e) => e.name === "tool_data")?.acked).toBe(acked);
      expect(acked).toBe(n);

      const cons = await verifiableConsumer(c(), { topic, groupId: group, maxMessages: acked });
      await cons.waitFor((e) => e.name === "partitions_assigned" && e.partitions.length === 3);
      expect(await cons.exited).toBe(0);
      expect(consumedCount(cons.collected())).toBe(acked);
      expect(cons.collected().some((e) => e.name === "offsets_committed" && e.success)).toBe(true);

      // the group's committed offsets cover everything: lag 0, offsets add up to what was acked.
      // Columns: GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...; only partitions with
      // a commit are listed (unkeyed records from the sticky partitioner may all land in one).
      const d = await consumerGroupsTool(c(), ["--describe", "--group", group]);
      const rows = d.stdout.filter((l) => l.includes(topic)).map((l) => l.split(/\s+/));
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row[5]).toBe("0");
      expect(rows.reduce((n, row) => n + Number(row[3]), 0)).toBe(acked);
    }, T);
  });
}

describe("source security listeners", () => {
  const c = () => getCluster("source");

  test("SASL_SSL SCRAM-SHA-512 and SCRAM-SHA-256 users can produce and consume", async () => {
    const topic = unique("scram");
    await createTopic(c(), topic, { partitions: 1 });
    const admin = await producerPerformance(c(), { topic, numRecords: 500, listener: "sasl_ssl" });
    expect(admin.records).toBe(500);
    const alice = await producerPerformance(c(), {
      topic, numRecords: 500, client: clientProps(c(), "sasl_ssl", { user: "alice", mechanism: "SCRAM-SHA-256" }),
    });
    expect(alice.records).toBe(500);
    const r = await consumerPerformance(c(), { topic, numRecords: 1_000, listener: "sasl_ssl" });
    expect(r.records).toBe(1_000);
  }, T);

  test("SSL listener accepts the mTLS client certificate", async () => {
    const topic = unique("mtls");
    await createTopic(c(), topic, { partitions: 1 });
    const p = await producerPerformance(c(), { topic, numRecords: 500, listener: "ssl" });
    expect(p.records).toBe(500);
    const r = await consumerPerformance(c(), { topic, numRecords: 500, listener: "ssl" });
    expect(r.records).toBe(500);
  }, T);

  test("OAUTHBEARER listener accepts an unsecured JWT from Kafka's own client", async () => {
    const topic = unique("oauth");
    await createTopic(c(), topic, { partitions: 1 });
    const p = await producerPerformance(c(), { topic, numRecords: 500, listener: "oauthbearer" });
    expect(p.records).toBe(500);
    const r = await consumerPerformance(c(), { topic, numRecords: 500, listener: "oauthbearer" });
    expect(r.records).toBe(500);
  }, T);

  // ProducerPerformance exits 0 even when nothing could be sent, so check the count and the error.
  // One record: every send re-tries the failed authentication (about 1 s each).
  test("a wrong SCRAM password is rejected", async () => {
    const topic = unique("badpw");
    await createTopic(c(), topic);
    const p = await producerPerformance(c(), {
      topic, numRecords: 1, allowFail: true,
      client: clientProps(c(), "sasl_ssl", { user: "alice", password: "not-alices-password" }),
      props: { "max.block.ms": "5000" },
    });
    expect(p.records).toBe(0);
    expect(p.stderr).toContain("SaslAuthenticationException");
  }, T);

  test("the SSL listener rejects a client without a certificate", async () => {
    const topic = unique("nocert");
    await createTopic(c(), topic);
    const { "ssl.keystore.location": _, "ssl.keystore.password": __, "ssl.key.password": ___, "ssl.keystore.type": ____, ...noCert } =
      clientProps(c(), "ssl");
    const p = await producerPerformance(c(), { topic, numRecords: 1, allowFail: true, client: noCert, props: { "max.block.ms": "5000" } });
    expect(p.records).toBe(0);
    expect(p.stderr).toMatch(/SslAuthenticationException|SSL handshake failed/);
  }, T);
});

// Only when started with `cli.ts up --three`; the cluster is left with all 3 nodes up again.
describe.skipIf(!readClusters().three)("three-node cluster", () => {
  test("survives a crashed and a stopped broker, and restarted brokers rejoin", async () => {
    const c = getCluster("three");
    const topic = unique("failover");
    await createTopic(c, topic, { partitions: 3, replicationFactor: 3 });

    const old = c.brokers[1]!.pid;
    await killBroker(c, 2); // SIGKILL: a crash, fenced after broker.session.timeout.ms
    await killBroker(c, 3, "SIGTERM"); // controlled shutdown
    expect(isOurs(old, `${c.dir}/node-2/`)).toBe(false);
    await restartBroker(c, 3);
    // acks=all with min.insync.replicas=2: needs node 3 back while node 2 is down
    const p = await producerPerformance(c, { topic, numRecords: 1_000 });
    expect(p.records).toBe(1_000);

    await restartBroker(c, 2);
    expect(c.brokers[1]!.pid).not.toBe(old);
    expect(getCluster("three").brokers[1]!.pid).toBe(c.brokers[1]!.pid); // clusters.json follows
    expect(await isAnswering(c)).toBe(true);
    const r = await consumerPerformance(c, { topic, numRecords: 1_000 });
    expect(r.records).toBe(1_000);
  }, 180_000);
});
