/**
 * ACL sync (issue 18): with link.aclSync, `klink plan` lists the source's bindings that concern the
 * link, and `klink run` creates them on the target, renames principals, and removes a binding
 * deleted on the source only under `deletions: mirror`. Both clusters run the StandardAuthorizer:
 * the shared source, and a target started here (security on, stopped in afterAll). Principals come
 * from the OAUTHBEARER listeners (Kafka's unsecured JWT validator: any `sub` is a principal).
 * Oracle: real librdkafka consumers of those principals (may one read on the target what it may
 * read on the source?) and kafka-acls.sh --list on the target.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Admin, Consumer, KafkaError, Producer, type AclBinding } from "../../src/rdkafka/index.ts";
import type { Plan } from "../../src/plan/types.ts";
import { startCluster, stopCluster, type KafkaCluster } from "../harness/cluster.ts";
import { aclTool } from "../harness/tools.ts";
import { source, target as sharedTarget, plain, uniqueName, until, withAdmin } from "../helpers.ts";
import { KlinkRun, klink, stopAllKlinks, writeMigration } from "./klink-process.ts";

let target: KafkaCluster;

beforeAll(async () => {
  target = await startCluster({ name: uniqueName("acl-target"), version: "4.4.0", security: true, dir: mkdtempSync(join(tmpdir(), "klink-acl-target-")) });
}, 180_000);

/** Principals whose bindings the tests made on the shared source: removed in afterAll. */
const madeOnSource = new Set<string>();

afterAll(async () => {
  await stopAllKlinks();
  await withAdmin(source(), (a) => a.deleteAcls([...madeOnSource].map((principal) => ({ principal }))));
  if (target) await stopCluster(target);
}, 60_000);

const allow = (resourceType: AclBinding["resourceType"], name: string, patternType: "LITERAL" | "PREFIXED", principal: string, operation: AclBinding["operation"]): AclBinding =>
  ({ resourceType, name, patternType, principal, host: "*", operation, permission: "ALLOW" });

/** Reads `count` records of `topic` as `user` in `group`: "read", or the error the cluster answered. */
async function readAs(c: KafkaCluster, user: string, topic: string, group: string, count: number): Promise<string> {
  const errors: KafkaError[] = [];
  const consumer = new Consumer({
    "bootstrap.servers": c.security!.oauthBootstrap, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "OAUTHBEARER",
    "enable.sasl.oauthbearer.unsecure.jwt": "true", "sasl.oauthbearer.config": `principal=${user}`,
    "group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": "false",
  }, { onError: (e) => errors.push(e) });
  try {
    consumer.subscribe([topic]);
    let seen = 0;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      for (const m of await consumer.consume(100, 200)) {
        try {
          if (m.isPartitionEof) continue;
          if (m.errorCode) return m.error!.codeName;
          seen++;
        } finally {
          m.destroy();
        }
      }
      if (seen >= count) return "read";
      const refused = errors.find((e) => /AUTHORIZATION_FAILED/.test(e.codeName));
      if (refused) return refused.codeName;
    }
    return `read ${seen} of ${count} within 60 s`;
  } finally {
    consumer.close();
  }
}

/** kafka-acls.sh --list on the target, one binding a line: "TOPIC PREFIXED name principal operation permission". */
async function targetAcls(): Promise<string[]> {
  const r = await aclTool(target, ["--list"]);
  const out: string[] = [];
  let resource = "";
  for (const line of r.stdout) {
    const res = /ResourcePattern\(resourceType=(\w+), name=(.*), patternType=(\w+)\)/.exec(line);
    if (res) resource = `${res[1]} ${res[3]} ${res[2]}`;
    const acl = /\(principal=(.*), host=(.*), operation=(\w+), permissionType=(\w+)\)/.exec(line);
    if (acl) out.push(`${resource} ${acl[1]} ${acl[3]} ${acl[4]}`);
  }
  return out;
}

async function produce(topic: string, count: number): Promise<void> {
  const producer = new Producer(plain(source()));
  for (let i = 0; i < count; i++) producer.produce({ topic, partition: 0, key: `k${i}`, value: `v${i}` });
  await producer.flush();
  await producer.close();
}

const aclSync = (settings: string) => `  aclSync: ${settings}\n`;

test("plan lists the ACLs to create; run creates them (prefixed, group, transactional id, ALL, WRITE, renamed principal), not those of unlinked topics; a deletion is mirrored, a binding klink did not create stays, and after promote a topic's bindings stay", async () => {
  const u = uniqueName("acl");
  // `group` is handed off (klink holds it on the target): the readers read in `readers`, which the prefixed group binding covers
  const [orders, more, other, group, readers] = [`${u}-orders`, `${u}-more`, `${u}-other`, `${u}-billing`, `${u}-readers`];
  const [reader, stranger, alice, writer] = [`${u}-reader`, `${u}-stranger`, `${u}-alice`, `${u}-writer`];
  await withAdmin(source(), (a) => a.createTopics([{ name: orders, partitions: 1 }, { name: more, partitions: 1 }, { name: other, partitions: 1 }]));
  await produce(orders, 5);
  const bindings = [
    allow("TOPIC", `${u}-`, "PREFIXED", `User:${reader}`, "READ"),
    allow("TOPIC", `${u}-`, "PREFIXED", `User:${reader}`, "DESCRIBE"),
    allow("GROUP", group, "LITERAL", `User:${reader}`, "READ"),
    allow("GROUP", `${u}-`, "PREFIXED", `User:${reader}`, "READ"),
    allow("TRANSACTIONAL_ID", `${u}-tx`, "PREFIXED", `User:${alice}`, "WRITE"),
    allow("TOPIC", orders, "LITERAL", `User:${writer}`, "ALL"),
    allow("TOPIC", orders, "LITERAL", `User:${alice}`, "WRITE"),
    allow("TOPIC", other, "LITERAL", `User:${stranger}`, "READ"),
  ];
  for (const b of bindings) madeOnSource.add(b.principal);
  madeOnSource.add(`User:${u}-tokens`);
  await withAdmin(source(), (a) => a.createAcls(bindings));
  // librdkafka cannot express a delegation-token binding: reported, not copied
  await aclTool(source(), ["--add", "--allow-principal", `User:${u}-tokens`, "--operation", "Describe", "--delegation-token", `${u}-token`]);
  // on the target before klink: a binding an operator made there, on a linked topic
  const operators = allow("TOPIC", orders, "LITERAL", `User:${u}-ops`, "DESCRIBE");
  await withAdmin(target, (a) => a.createAcls([operators]));

  // the oracle's premise, on the source: the reader may read the linked topic, the stranger may not
  expect(await readAs(source(), reader, orders, readers, 5)).toBe("read");
  expect(await readAs(source(), stranger, orders, `strangers-${u}`, 5)).toBe("TOPIC_AUTHORIZATION_FAILED");

  const file = writeMigration({ topics: [orders, more], linkName: u, to: target, extra: `groups: [${group}]\n` });
  await Bun.write(file, (await Bun.file(file).text()).replace("  offsets: auto\n", `  offsets: auto\n${aclSync(`{ enabled: true, deletions: mirror, principals: { "User:${alice}": "User:${alice}2" } }`)}`));

  const planned = await klink(["plan", file, "--json"]);
  const plan = JSON.parse(planned.stdout) as Plan;
  const text = (b: AclBinding) => `${b.resourceType} ${b.patternType} ${b.name} ${b.principal} ${b.operation}`;
  const renamed = (b: AclBinding) => (b.principal === `User:${alice}` ? { ...b, principal: `User:${alice}2` } : b);
  const mine = plan.acls!.create.filter((b) => b.name.startsWith(u)).map(text).sort();
  expect(mine).toEqual(bindings.slice(0, 7).map(renamed).map(text).sort());
  expect(plan.acls!.onlyOnTarget.filter((x) => x.binding.name.startsWith(u))).toEqual([{ binding: operators, run: "keeps", why: "klink did not create it" }]);
  expect(plan.acls!.unsupported.filter((b) => b.name.startsWith(u))).toEqual([{ ...allow("UNKNOWN", `${u}-token`, "LITERAL", `User:${u}-tokens`, "DESCRIBE") }]);
  const planText = (await klink(["plan", file])).stdout;
  expect(planText).toContain(`create              ALLOW User:${alice}2 WRITE on TRANSACTIONAL_ID ${u}-tx* (prefixed)`);
  expect(planText).toContain(`not copied          ALLOW User:${u}-tokens DESCRIBE on UNKNOWN ${u}-token (librdkafka cannot express`);

  const run = new KlinkRun(file);
  const expected = bindings.slice(0, 7).map(renamed).map((b) => `${b.resourceType} ${b.patternType} ${b.name} ${b.principal} ${b.operation} ALLOW`);
  await until("the source's bindings on the target", async () => {
    const have = (await withAdmin(target, (a) => a.describeAcls())).map((b) => `${b.resourceType} ${b.patternType} ${b.name} ${b.principal} ${b.operation} ${b.permission}`);
    return expected.every((e) => have.includes(e));
  }, 120_000, run);

  const listed = await targetAcls();
  for (const e of expected) expect(listed).toContain(e);
  expect(listed.filter((l) => l.includes(`User:${alice} `))).toEqual([]); // renamed, never under the source's name
  expect(listed.filter((l) => l.includes(other) || l.includes(`${u}-token`))).toEqual([]); // not linked; not expressible
  expect(run.output).toContain(`ACL sync: not copied (librdkafka cannot express it; add it on the target with kafka-acls.sh): ALLOW User:${u}-tokens DESCRIBE on UNKNOWN ${u}-token`);
  expect(listed).toContain(`TOPIC LITERAL ${orders} User:${u}-ops DESCRIBE ALLOW`);
  // a client that may read on the source may read on the target; one that may not, may not
  await until("the records copied", async () => (await withAdmin(target, (a) => a.watermarks([{ topic: orders, partition: 0 }])))[0]!.high === 5, 60_000, run);
  expect(await readAs(target, reader, orders, readers, 5)).toBe("read");
  expect(await readAs(target, stranger, orders, `strangers-${u}`, 5)).toBe("TOPIC_AUTHORIZATION_FAILED");

  // deletions: mirror: removed on the source, removed on the target; the operators' binding stays
  await withAdmin(source(), (a) => a.deleteAcls([bindings[6]!]));
  await until("the deletion mirrored", async () => !(await withAdmin(target, (a) => a.describeAcls({ principal: `User:${alice}2`, resourceType: "TOPIC" }))).length, 60_000, run);
  const after = await targetAcls();
  expect(after).not.toContain(`TOPIC LITERAL ${orders} User:${alice}2 WRITE ALLOW`);
  expect(after).toContain(`TOPIC LITERAL ${orders} User:${u}-ops DESCRIBE ALLOW`);
  expect(after).toContain(`TRANSACTIONAL_ID PREFIXED ${u}-tx User:${alice}2 WRITE ALLOW`);
  expect(run.output).toContain(`ACL sync: removed from the target as on the source (deletions: mirror): ALLOW User:${alice}2 WRITE on TOPIC ${orders}`);

  // after promote the target decides about the topic: its bindings removed on the source (as when it is retired) stay on the target
  expect((await klink(["promote", file, orders, "--force"])).stdout).toContain(`${orders}: promoted`);
  await withAdmin(source(), (a) => a.deleteAcls([bindings[5]!]));
  await Bun.sleep(25_000); // two sync rounds (10 s each): a removal would show in them
  expect(await targetAcls()).toContain(`TOPIC LITERAL ${orders} User:${writer} ALL ALLOW`);
  await run.stop();
}, 600_000);

test("deletions: keep leaves a binding on the target after the source removed it", async () => {
  const u = uniqueName("acl-keep");
  const [orders, reader] = [`${u}-orders`, `${u}-reader`];
  await withAdmin(source(), (a) => a.createTopics([{ name: orders, partitions: 1 }]));
  const binding = allow("TOPIC", orders, "LITERAL", `User:${reader}`, "READ");
  madeOnSource.add(binding.principal);
  await withAdmin(source(), (a) => a.createAcls([binding]));
  const file = writeMigration({ topics: [orders], linkName: u, to: target });
  await Bun.write(file, (await Bun.file(file).text()).replace("  offsets: auto\n", `  offsets: auto\n${aclSync("{ enabled: true }")}`));
  const run = new KlinkRun(file);
  const onTarget = async () => (await withAdmin(target, (a) => a.describeAcls({ principal: `User:${reader}` }))).length;
  await until("the binding on the target", async () => (await onTarget()) === 1, 120_000, run);
  await withAdmin(source(), (a) => a.deleteAcls([binding]));
  // Three sync rounds (10 s each) pass: a deletion mirrored would show in them.
  await Bun.sleep(35_000);
  expect(await targetAcls()).toContain(`TOPIC LITERAL ${orders} User:${reader} READ ALLOW`);
  expect(run.output).not.toContain("removed from the target");
  await run.stop();
}, 300_000);

test("plan reports what klink's own principal lacks (WRITE on the source's linked topic, DESCRIBE and ALTER on the target cluster) and grants none of it", async () => {
  const u = uniqueName("acl-needs");
  const orders = `${u}-orders`;
  await withAdmin(source(), (a) => a.createTopics([{ name: orders, partitions: 1 }]));
  // klink connects as alice: it may read the topic on the source, not write it (only the test's topic: alice's other bindings stay)
  await withAdmin(source(), (a) => a.createAcls(["READ", "DESCRIBE", "DESCRIBE_CONFIGS"].map((op) => allow("TOPIC", orders, "LITERAL", "User:alice", op as AclBinding["operation"]))));
  // any binding on the target cluster resource ends allow.everyone.if.no.acl.found there: alice may not manage ACLs
  const clusterBinding = allow("CLUSTER", "kafka-cluster", "LITERAL", `User:${u}-ops`, "DESCRIBE");
  await withAdmin(target, (a) => a.createAcls([clusterBinding]));
  try {
    const sasl = (c: KafkaCluster) =>
      `{ bootstrap: "${c.security!.saslSslBootstrap}", auth: { plugin: sasl, options: { mechanism: SCRAM-SHA-512, username: alice, password: ${c.security!.users.alice}, tls: { ca: ${c.security!.caPem} } } } }`;
    const file = writeMigration({ topics: [orders], linkName: u, to: target });
    const yaml = (await Bun.file(file).text())
      .replace(/  source: .*\n/, `  source: ${sasl(source())}\n`)
      .replace(/  target: .*\n/, `  target: ${sasl(target)}\n`)
      .replace("  offsets: auto\n", `  offsets: auto\n${aclSync("{ enabled: true }")}`);
    await Bun.write(file, yaml);
    const planned = await klink(["plan", file, "--json"]);
    const plan = JSON.parse(planned.stdout) as Plan;
    const lines = plan.problems.map((p) => `${p.severity} ${p.subject}: ${p.message}`);
    expect(lines).toContain(`warning source cluster: klink's principal lacks WRITE on linked topic ${orders} on the source: during dual write klink writes the records producers wrote to the target there; ACL sync does not grant it (grant it yourself before producers move)`);
    expect(lines).toContain("error target cluster: ACL sync: klink's principal may not manage ACLs on the target: grant it DESCRIBE and ALTER on the target cluster (klink does not grant itself anything)");
    expect(plan.acls).toBeUndefined(); // librdkafka answers a refused DescribeAcls with no bindings: no plan is made of that
    // with DESCRIBE granted (by the operator), what is left: ALTER
    const describe = allow("CLUSTER", "kafka-cluster", "LITERAL", "User:alice", "DESCRIBE");
    await withAdmin(target, (a) => a.createAcls([describe]));
    const again = JSON.parse((await klink(["plan", file, "--json"])).stdout) as Plan;
    expect(again.problems.map((p) => `${p.severity} ${p.subject}: ${p.message}`)).toContain("error target cluster: ACL sync: klink's principal lacks ALTER on the target cluster (to create and delete ACLs); grant it yourself: klink does not grant itself anything");
    await withAdmin(target, (a) => a.deleteAcls([describe]));
    // nothing was granted to alice anywhere
    for (const c of [source(), target]) expect((await withAdmin(c, (a) => a.describeAcls({ principal: "User:alice" }))).filter((b) => b.permission === "ALLOW" && (b.operation === "WRITE" || b.resourceType === "CLUSTER"))).toEqual([]);
    expect(again.acls!.create.filter((b) => b.principal === "User:alice" && b.name === orders).map((b) => b.operation).sort()).toEqual(["DESCRIBE", "DESCRIBE_CONFIGS", "READ"]); // the source's, nothing more
  } finally {
    await withAdmin(target, (a) => a.deleteAcls([clusterBinding]));
    await withAdmin(source(), (a) => a.deleteAcls([{ principal: "User:alice", resourceType: "TOPIC", name: orders }]));
  }
}, 300_000);

test("a target without an authorizer: run says once that it keeps no ACLs, and mirrors the topic as ever", async () => {
  const u = uniqueName("acl-noauth");
  const orders = `${u}-orders`;
  await withAdmin(source(), (a) => a.createTopics([{ name: orders, partitions: 1 }]));
  await produce(orders, 3);
  const bindings = [allow("TOPIC", orders, "LITERAL", `User:${u}-reader`, "READ"), allow("TOPIC", orders, "LITERAL", `User:${u}-reader`, "DESCRIBE")];
  madeOnSource.add(bindings[0]!.principal);
  await withAdmin(source(), (a) => a.createAcls(bindings));
  const file = writeMigration({ topics: [orders], linkName: u, to: sharedTarget() });
  await Bun.write(file, (await Bun.file(file).text()).replace("  offsets: auto\n", `  offsets: auto\n${aclSync("{ enabled: true }")}`));
  const run = new KlinkRun(file);
  const said = "ACL sync: the target cluster has no authorizer (authorizer.class.name): it keeps no ACLs: enable one there to sync ACLs";
  await until("the missing authorizer said", () => run.output.includes(said), 60_000, run);
  await until("the records copied", async () => (await withAdmin(sharedTarget(), (a) => a.watermarks([{ topic: orders, partition: 0 }])))[0]!.high === 3, 60_000, run);
  await Bun.sleep(12_000); // one more round: said once
  expect(run.output.split(said).length - 1).toBe(1);
  expect(run.output).not.toContain("ACL sync: the target refused");
  await run.stop();
}, 300_000);
