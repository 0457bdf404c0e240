/**
 * storage/kafka against the real test clusters, beyond the Store contract that
 * kafka-conformance.test.ts checks: the state round-trips on either cluster, in a topic with one
 * partition and cleanup.policy=compact; state survives kill -9 of a writer with whole batches
 * only, a second instance fences the first, a read-only open creates nothing, and a topic that is
 * not klink's state is refused.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { check, create, stateTopic, type KafkaStoreOptions } from "../../plugins/storage/kafka.ts";
import type { OffsetMapRow, PluginContext, Store } from "../../plugins/plugin.ts";
import { Producer } from "../../src/rdkafka/index.ts";
import { plain, source, target, uniqueName, withAdmin } from "../helpers.ts";
import { aclTool } from "../harness/tools.ts";
import * as sasl from "../../plugins/auth/sasl.ts";

const clusterOf = (role: "source" | "target") => (role === "source" ? source() : target());

function context(linkName: string, readOnly = false): PluginContext {
  return {
    configFile: "/srv/m/migration.yaml",
    configDir: "/srv/m",
    linkName,
    readOnly,
    clusterSettings: async (role) => ({ config: plain(clusterOf(role)), options: {} }),
  };
}

const open = (linkName: string, options: Partial<KafkaStoreOptions> = {}, readOnly = false): Promise<Store> =>
  create({ cluster: "target", replicationFactor: -1, configs: {}, ...options }, context(linkName, readOnly));

const rows = (topic: string, pairs: Array<[number, number]>, origin: OffsetMapRow["origin"] = "source"): OffsetMapRow[] =>
  pairs.map(([sourceOffset, targetOffset]) => ({ topic, partition: 0, sourceOffset, targetOffset, origin }));

test("options: the topic defaults to __klink-<link.name>-state; delete policy and 0 replicas are refused", () => {
  expect(stateTopic({}, { linkName: "orders-move" })).toBe("__klink-orders-move-state");
  expect(stateTopic({ topic: "my-state" }, { linkName: "orders-move" })).toBe("my-state");
  expect(check({ replicationFactor: 3, configs: { "min.insync.replicas": "2" } })).toEqual([]);
  expect(check({ replicationFactor: 0 }).map((p) => p.path)).toEqual([["replicationFactor"]]);
  expect(check({ configs: { "cleanup.policy": "delete" } })[0]!.message).toContain("must be compact");
});

for (const role of ["target", "source"] as const) {
  test(`${role} cluster: lifecycle states, key-values and the offset map round-trip, also after reopening; seek never skips a record`, async () => {
    const link = uniqueName("store");
    const store = await open(link, { cluster: role });
    expect(store.location).toBe(`topic __klink-${link}-state on the ${role} cluster`);
    await store.write([
      { topic: "orders", state: "mirroring" },
      { group: "billing", state: "watching", detail: "3 members on the source" },
      { put: "fetcher.orders.0", value: "42" },
      { put: "cluster.target.id", value: "abc" },
      { partition: { topic: "orders", partition: 0 }, mode: "translate", sinceOffset: 100, detail: "hole at 100" },
      // source offsets 100, 101, 105 (a compaction hole) → target 0, 1, 2; then a record produced to the target
      { offsets: rows("orders", [[100, 0], [101, 1], [105, 2]]) },
      { offsets: rows("orders", [[106, 3]], "target") },
    ]);
    await store.write([{ topic: "orders", state: "dual-write", detail: "first direct write" }, { put: "fetcher.orders.0", value: null }]);

    const expectState = async (s: Store) => {
      expect((await s.topics()).map(({ topic, state, detail }) => ({ topic, state, detail }))).toEqual([{ topic: "orders", state: "dual-write", detail: "first direct write" }]);
      expect((await s.groups()).map((g) => [g.group, g.state, g.detail])).toEqual([["billing", "watching", "3 members on the source"]]);
      expect(await s.get("fetcher.orders.0")).toBeNull();
      expect(await s.get("cluster.target.id")).toBe("abc");
      expect((await s.partitions("orders")).map(({ partition, mode, sinceOffset }) => ({ partition, mode, sinceOffset }))).toEqual([{ partition: 0, mode: "translate", sinceOffset: 100 }]);
      expect(await s.partitions("other")).toEqual([]);
      // a group committed at 102 (next to read) resumes at the record after it: source 105 → target 2
      expect((await s.seek("source", "orders", 0, 102))?.targetOffset).toBe(2);
      expect(await s.seek("target", "orders", 0, 3)).toEqual({ topic: "orders", partition: 0, sourceOffset: 106, targetOffset: 3, origin: "target" });
      expect(await s.seek("source", "orders", 0, 107)).toBeNull();
      expect(await s.seek("source", "orders", 1, 0)).toBeNull();
      expect((await s.last("target", "orders", 0, "source"))?.targetOffset).toBe(2);
      expect((await s.last("source", "orders", 0))?.sourceOffset).toBe(106);
      expect((await s.offsetMap("orders", 0, 101, 2)).map((r) => r.sourceOffset)).toEqual([101, 105]);
      expect((await s.offsetMap("orders", 0, 2, 10, "target")).map((r) => r.targetOffset)).toEqual([2, 3]);
    };
    await expectState(store);
    await store.close();

    const reopened = await open(link, { cluster: role });
    await expectState(reopened);
    await reopened.close();
    const readOnly = await open(link, { cluster: role }, true);
    await expectState(readOnly);
    await expect(readOnly.write([{ put: "k", value: "v" }])).rejects.toThrow("is open read-only");
    await readOnly.close();

    await withAdmin(clusterOf(role), async (admin) => {
      const [description] = await admin.describeTopics([`__klink-${link}-state`]);
      expect(description!.partitions.length).toBe(1);
      const configs = await admin.describeTopicConfigs(`__klink-${link}-state`);
      expect(configs.find((c) => c.name === "cleanup.policy")?.value).toBe("compact");
    });
  }, 120_000);
}

/** A child process that writes batches of `rows` offset-map rows until killed, printing "committed N" once batch N's write resolved. */
function spawnWriter(link: string, rows: number) {
  const writer = `
    import { create } from ${JSON.stringify(join(import.meta.dir, "../../plugins/storage/kafka.ts"))};
    const store = await create({ cluster: "target", replicationFactor: -1, configs: {} }, {
      configFile: "/srv/m/migration.yaml", configDir: "/srv/m", linkName: process.env.LINK, readOnly: false,
      clusterSettings: async () => ({ config: { "bootstrap.servers": process.env.BOOTSTRAP }, options: {} }),
    });
    for (let batch = 1; ; batch++) {
      const offsets = Array.from({ length: ${rows} }, (_, i) => ({ topic: "t", partition: 0, sourceOffset: batch * ${rows} + i, targetOffset: batch * ${rows} + i, origin: "source" }));
      await store.write([{ offsets }, { put: "last-batch", value: String(batch) }, { topic: "t", state: "mirroring", detail: "batch " + batch }]);
      console.log("committed " + batch);
    }`;
  const child = Bun.spawn([process.execPath, "-e", writer], { env: { ...process.env, LINK: link, BOOTSTRAP: target().bootstrap }, stdout: "pipe", stderr: "inherit" });
  let acknowledged = 0;
  void (async () => {
    let buffered = "";
    for await (const chunk of child.stdout) {
      buffered += new TextDecoder().decode(chunk);
      for (const m of buffered.matchAll(/committed (\d+)\n/g)) acknowledged = Math.max(acknowledged, Number(m[1]));
      buffered = buffered.slice(buffered.lastIndexOf("\n") + 1);
    }
  })();
  return { child, acknowledged: () => acknowledged };
}

test("state survives kill -9 of the writer, also inside a transaction: every acknowledged batch is there, no batch is half there", async () => {
  const ROWS = 2_000;
  let killedInside = false;
  // Kill when the log shows a transaction open (records written, no marker yet).
  for (let attempt = 1; attempt <= 5 && !killedInside; attempt++) {
    const link = uniqueName("kill");
    const topic = `__klink-${link}-state`;
    const { child, acknowledged } = spawnWriter(link, ROWS);
    const ends = (admin: import("../../src/rdkafka/index.ts").Admin) =>
      Promise.all([admin.listOffsets([{ topic, partition: 0, offset: -1 }], false), admin.listOffsets([{ topic, partition: 0, offset: -1 }], true)]).then(([[w], [s]]) => ({ written: w!.offset, stable: s!.offset }));
    const atKill = await withAdmin(target(), async (admin) => {
      for (const deadline = Date.now() + 60_000; acknowledged() < 10; await Bun.sleep(5)) if (Date.now() > deadline) throw new Error("the writer acknowledged no batch");
      // Freeze the writer when a transaction looks open, then look again: a frozen writer cannot
      // commit, so a transaction still open after a pause is one the kill lands inside.
      for (const deadline = Date.now() + 60_000; ; ) {
        const e = await ends(admin);
        const late = Date.now() > deadline;
        if (e.written > e.stable || late) {
          process.kill(child.pid, "SIGSTOP");
          await Bun.sleep(300);
          const frozen = await ends(admin);
          if (frozen.written > frozen.stable || late) {
            process.kill(child.pid, "SIGKILL");
            await child.exited;
            return ends(admin);
          }
          process.kill(child.pid, "SIGCONT");
        }
      }
    });
    const acked = acknowledged();
    killedInside = atKill.written > atKill.stable;

    const expectWhole = async (s: Store) => {
      const last = Number(await s.get("last-batch"));
      expect(last).toBeGreaterThanOrEqual(acked);
      const map = await s.offsetMap("t", 0, 0, 10_000_000);
      expect(map.length).toBe(last * ROWS); // batches are whole, none torn
      expect(map.every((r, i) => r.sourceOffset === ROWS + i)).toBe(true);
      expect((await s.last("source", "t", 0))!.sourceOffset).toBe((last + 1) * ROWS - 1);
      expect((await s.topics())[0]!.detail).toBe(`batch ${last}`);
      return last;
    };
    // read-only first: the transaction the killed writer left open is still open, and invisible
    const readOnly = await open(link, {}, true);
    const seen = await expectWhole(readOnly);
    await readOnly.close();
    // taking over aborts it; the state is the same, and writable
    const store = await open(link);
    expect(await expectWhole(store)).toBe(seen);
    await store.write([{ put: "after", value: "restart" }]);
    expect(await store.get("after")).toBe("restart");
    await store.close();
    console.log(
      `kill -9 (attempt ${attempt}): ${acked} batches acknowledged, ${seen} stored (${seen * ROWS} rows), none torn; ` +
        (killedInside ? `killed inside a transaction (${atKill.written - atKill.stable} log offsets written beyond the last stable offset), aborted on takeover` : "no transaction was open at the kill"),
    );
  }
  expect(killedInside).toBe(true);
}, 300_000);

test("a second instance opening the same state fences the first: its next write fails, saying why", async () => {
  const link = uniqueName("fence");
  const first = await open(link);
  await first.write([{ put: "owner", value: "first" }]);
  const second = await open(link);
  expect(await second.get("owner")).toBe("first");
  await expect(first.write([{ put: "owner", value: "first again" }])).rejects.toThrow(/another klink instance opened state topic __klink-.*-state on the target cluster .* and fenced this one/);
  await expect(first.write([{ put: "x", value: "y" }])).rejects.toThrow("fenced this one");
  await first.close();
  await second.write([{ put: "owner", value: "second" }]);
  await second.close();
  const check = await open(link, {}, true);
  expect(await check.get("owner")).toBe("second");
  expect(await check.get("x")).toBeNull();
  await check.close();
}, 120_000);

test("an instance that writes nothing learns by itself that it was fenced: `fenced` resolves, saying why", async () => {
  const link = uniqueName("idle-fence");
  const first = await open(link);
  const second = await open(link);
  expect((await first.fenced!).message).toMatch(/another klink instance opened state topic .* and fenced this one/);
  await second.close();
  await first.close();
}, 120_000);

test("the liveness check of an idle writer is not a key-value a reader sees", async () => {
  const link = uniqueName("alive");
  const writer = await open(link);
  await Bun.sleep(3_000); // idle: the liveness check writes
  await writer.close();
  const reader = await open(link, {}, true);
  expect(await reader.get("klink.alive")).toBeNull();
  expect(await reader.get("klink/alive")).toBeNull();
  await reader.close();
}, 120_000);

test("read-only on a missing topic: empty state, and nothing is created", async () => {
  const link = uniqueName("missing");
  const store = await open(link, {}, true);
  expect(await store.topics()).toEqual([]);
  expect(await store.get("k")).toBeNull();
  expect(await store.seek("source", "t", 0, 0)).toBeNull();
  expect(await store.offsetMap("t", 0, 0, 10)).toEqual([]);
  await expect(store.write([{ put: "k", value: "v" }])).rejects.toThrow("is open read-only");
  await store.close();
  await withAdmin(target(), async (admin) => expect(admin.listTopics().map((t) => t.name)).not.toContain(`__klink-${link}-state`));
}, 60_000);

test("a topic that cannot hold the state is refused with what to fix", async () => {
  const link = uniqueName("refuse");
  const names = { deleting: uniqueName("state-delete"), wide: uniqueName("state-wide"), foreign: uniqueName("state-foreign") };
  await withAdmin(target(), (admin) =>
    admin.createTopics([
      { name: names.deleting, partitions: 1 },
      { name: names.wide, partitions: 3, configs: { "cleanup.policy": "compact" } },
      { name: names.foreign, partitions: 1, configs: { "cleanup.policy": "compact" } },
    ]),
  );
  const producer = new Producer(plain(target()));
  await producer.send({ topic: names.foreign, partition: 0, key: "user-42", value: "{}" });
  await producer.close();

  await expect(open(link, { topic: names.deleting })).rejects.toThrow(`has cleanup.policy=delete, so its state would be deleted after retention.ms: set cleanup.policy=compact`);
  await expect(open(link, { topic: names.wide })).rejects.toThrow("has 3 partitions; klink's state topic must have exactly 1");
  await expect(open(link, { topic: names.foreign }, true)).rejects.toThrow(`holds records that are not klink state (offset 0, key "user-42")`);
  // another link's state
  const other = await open(uniqueName("other-link"), { topic: uniqueName("shared-state") });
  const shared = (other.location.match(/^topic (\S+)/) ?? [])[1]!;
  await other.write([{ put: "k", value: "v" }]);
  await other.close();
  await expect(open(link, { topic: shared })).rejects.toThrow(/holds the state of link 'other-link-[0-9a-f]+', not of 'refuse-[0-9a-f]+': give each migration its own storage topic/);
  // a replication factor the cluster cannot have
  await expect(open(link, { topic: uniqueName("state-rf"), replicationFactor: 3 })).rejects.toThrow(/cannot create state topic .* set storage.options.replicationFactor/);
  // without cluster settings (a command that does not pass them)
  await expect(create({ cluster: "target", replicationFactor: -1, configs: {} }, { ...context(link), clusterSettings: undefined })).rejects.toThrow("needs the client settings of the target cluster");
}, 120_000);

test("without the rights it needs, the error names the right to grant (source cluster, user alice over SASL_SSL, ACLs)", async () => {
  const security = source().security!;
  const alice = sasl.create(
    { mechanism: "SCRAM-SHA-512", username: "alice", password: security.users.alice, tls: { ca: security.caPem, verifyCertificate: true, verifyHostname: true } },
    context("acl"),
  ).properties;
  const asAlice = (link: string, options: Partial<KafkaStoreOptions> = {}, readOnly = false) =>
    create(
      { cluster: "source", replicationFactor: -1, configs: {}, ...options },
      { ...context(link, readOnly), clusterSettings: async () => ({ config: { "bootstrap.servers": security.saslSslBootstrap, ...alice }, options: {} }) },
    );
  const acl = (op: "--add" | "--remove", args: string[]) => aclTool(source(), [op, "--force", "--deny-principal", "User:alice", ...args]);

  // may not create topics: first not even describe them (Kafka then hides whether the topic exists)
  const prefix = ["--topic", "__klink-acl-create-", "--resource-pattern-type", "prefixed"];
  const noCreate = ["--operation", "Create", ...prefix];
  await acl("--add", noCreate);
  await acl("--add", ["--operation", "Create", "--cluster"]);
  try {
    await expect(asAlice(uniqueName("acl-create"))).rejects.toThrow(/not authorized to describe state topic __klink-acl-create-.*-state on the source cluster: allow klink's principal to DESCRIBE, READ and WRITE topic __klink-acl-create-.*-state, and to CREATE it unless you create it yourself \(1 partition, cleanup.policy=compact\)/);
    const describe = ["--allow-principal", "User:alice", "--operation", "Describe", ...prefix];
    await aclTool(source(), ["--add", "--force", ...describe]);
    try {
      await expect(asAlice(uniqueName("acl-create"))).rejects.toThrow(/cannot create state topic __klink-acl-create-.*-state on the source cluster: .*klink may not create it: create it yourself \(1 partition, cleanup.policy=compact\) or allow klink's principal to CREATE it/);
    } finally {
      await aclTool(source(), ["--remove", "--force", ...describe]);
    }
  } finally {
    await acl("--remove", noCreate);
    await acl("--remove", ["--operation", "Create", "--cluster"]);
  }
  // may not use its transactional id
  const link = uniqueName("acl-txn");
  await acl("--add", ["--operation", "Write", "--transactional-id", `klink-${link}-state`]);
  try {
    await expect(asAlice(link)).rejects.toThrow(`klink may not use the transactional id klink-${link}-state: allow klink's principal to WRITE and DESCRIBE TransactionalId klink-${link}-state`);
  } finally {
    await acl("--remove", ["--operation", "Write", "--transactional-id", `klink-${link}-state`]);
  }
  // may not read the state topic
  const readable = await asAlice(link);
  await readable.write([{ put: "k", value: "v" }]);
  await readable.close();
  const describeOnly = ["--allow-principal", "User:alice", "--operation", "Describe", "--topic", `__klink-${link}-state`];
  await acl("--add", ["--operation", "Read", "--topic", `__klink-${link}-state`]);
  await aclTool(source(), ["--add", "--force", ...describeOnly]);
  try {
    await expect(asAlice(link, {}, true)).rejects.toThrow(`not authorized to read state topic __klink-${link}-state on the source cluster: allow klink's principal to DESCRIBE, READ and WRITE topic __klink-${link}-state`);
  } finally {
    await acl("--remove", ["--operation", "Read", "--topic", `__klink-${link}-state`]);
    await aclTool(source(), ["--remove", "--force", ...describeOnly]);
  }
}, 180_000);

test("measurement: 1,000,000 offset-map rows written in batches of 50,000, then read back on open", async () => {
  const link = uniqueName("measure");
  const store = await open(link);
  const TOTAL = 1_000_000;
  const BATCH = 50_000;
  const started = performance.now();
  for (let from = 0; from < TOTAL; from += BATCH) {
    // translate mode after a prefix: target offsets trail source offsets, with a hole now and then
    const offsets = Array.from({ length: BATCH }, (_, i): OffsetMapRow => {
      const s = from + i;
      return { topic: "big", partition: 0, sourceOffset: 5_000 + s + Math.floor(s / 1000), targetOffset: s, origin: "source" };
    });
    await store.write([{ offsets }, { put: "position", value: String(from + BATCH) }]);
  }
  const writeMs = performance.now() - started;
  // what the Fetcher's ledger does every 200 ms in dual write: a few positions and some rows
  const smallStarted = performance.now();
  for (let i = 0; i < 100; i++) {
    const offsets = Array.from({ length: 20 }, (_, j): OffsetMapRow => ({ topic: "small", partition: 0, sourceOffset: i * 20 + j, targetOffset: i * 20 + j, origin: "source" }));
    await store.write([{ offsets }, ...Array.from({ length: 8 }, (_, p) => ({ put: `position.small.${p}`, value: String(i) }))]);
  }
  const smallMs = (performance.now() - smallStarted) / 100;
  await store.close();

  const reopenStarted = performance.now();
  const reopened = await open(link, {}, true);
  const reopenMs = performance.now() - reopenStarted;
  expect((await reopened.last("target", "big", 0))!.targetOffset).toBe(TOTAL - 1);
  expect((await reopened.offsetMap("big", 0, 0, TOTAL + 1)).length).toBe(TOTAL);
  const seekStarted = performance.now();
  for (let i = 0; i < 1000; i++) await reopened.seek("source", "big", 0, 5_000 + Math.floor((i / 1000) * TOTAL));
  const seekMs = performance.now() - seekStarted;
  await reopened.close();
  const end = await withAdmin(target(), (a) => a.listOffsets([{ topic: `__klink-${link}-state`, partition: 0, offset: -1 }]));
  const { heapUsed } = process.memoryUsage();
  console.log(
    `storage/kafka: 1,000,000 rows in 20 writes of 50,000: ${(writeMs / 1000).toFixed(2)} s (${Math.round(TOTAL / (writeMs / 1000)).toLocaleString("en")} rows/s, ` +
      `${(writeMs / 20).toFixed(0)} ms a write); a small write (20 rows, 8 positions): ${smallMs.toFixed(1)} ms; reopen (read ${end[0]!.offset} log offsets, materialize): ${(reopenMs / 1000).toFixed(2)} s; ` +
      `1,000 seeks spread over the map: ${seekMs.toFixed(0)} ms; heap now ${(heapUsed / 2 ** 20).toFixed(0)} MiB`,
  );
}, 300_000);
