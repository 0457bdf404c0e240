/**
 * Moving a schema registry with identical IDs (issue 18): a real registry (Apicurio Registry with
 * KafkaSQL storage, test/harness/registry.ts) keeps its whole state as a log in a Kafka topic, the
 * journal. klink links that topic together with the data topic; a second registry started on the
 * target reads the copied journal and so resolves every schema ID written in the records.
 *
 * Oracle (read from outside, never klink's state): every record on the target carries a
 * Confluent wire-format ID (magic byte 0 + 4-byte ID) that resolves on the target registry B to
 * the same schema as on the source registry A; subjects, versions, IDs, compatibility settings
 * (global and per subject) and soft-deleted versions and subjects read the same through both
 * registries' Confluent-compatible API.
 *
 * Can it fail? The same ID check against a registry C that was refilled through the REST API
 * (subject by subject, as an export/import without ID preservation does) finds IDs that resolve
 * to another schema or to none: IDs are handed out in the order schemas were first registered,
 * interleaved across subjects, and only the journal itself carries that order. (Removing the
 * journal from the link makes the first check fail: the target registry then knows no ID.)
 * Apicurio rebuilds its state by replaying the journal in order, so what matters is a copy that
 * is complete from the log start, in order, and written by no one else; identical offsets give
 * that, and the second test shows why the target registry must wait for promote.
 */
import { afterAll, expect, test } from "bun:test";
import { Producer } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, until, withAdmin } from "../helpers.ts";
import type { KafkaCluster } from "../harness/cluster.ts";
import { startRegistry, type Registry } from "../harness/registry.ts";
import { klink, KlinkRun, stopAllKlinks, writeMigration } from "./klink-process.ts";
import { exactDifferences } from "./exact-check.ts";
import { readTopic } from "./dual-write-workload.ts";

const started: Registry[] = [];
afterAll(async () => {
  await stopAllKlinks();
  await Promise.all(started.map((r) => r.stop()));
});

async function start(bootstrap: string, journal: string, snapshots: string): Promise<Registry> {
  const r = await startRegistry({ bootstrap, journal, snapshots });
  started.push(r);
  return r;
}

/** A call to the Confluent-compatible API: status and parsed body. */
async function api(r: Registry, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(r.url + path, {
    method,
    headers: { "Content-Type": "application/vnd.schemaregistry.v1+json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function ok(r: Registry, method: string, path: string, body?: unknown): Promise<any> {
  const res = await api(r, method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const record = (name: string, fields: object[]) => JSON.stringify({ type: "record", name, fields });
const orderV1 = record("Order", [{ name: "id", type: "int" }]);
const orderV2 = record("Order", [{ name: "id", type: "int" }, { name: "note", type: "string", default: "" }]);
const orderV3 = record("Order", [{ name: "id", type: "int" }, { name: "note", type: "string", default: "" }, { name: "qty", type: "int", default: 0 }]);
const customerV1 = record("Customer", [{ name: "name", type: "string" }]);
const customerV2 = record("Customer", [{ name: "name", type: "string" }, { name: "email", type: ["null", "string"], default: null }]);
const legacyV1 = record("Legacy", [{ name: "a", type: "int" }]);

/** Registrations in the order they happen on the source: interleaved across subjects. */
const registrations: Array<[subject: string, schema: string]> = [
  ["orders-value", orderV1],
  ["customers-value", customerV1],
  ["orders-value", orderV2],
  ["legacy-value", legacyV1],
  ["customers-value", customerV2],
  ["orders-value", orderV3],
  ["payments-value", orderV3], // same schema in another subject: the same ID
];

/** Everything a client can see through the Confluent API, soft-deleted entries included. */
async function registryState(r: Registry) {
  const subjects = (await ok(r, "GET", "/subjects?deleted=true")) as string[];
  const perSubject: Record<string, unknown> = {};
  for (const s of [...subjects].sort()) {
    const all = (await ok(r, "GET", `/subjects/${s}/versions?deleted=true`)) as number[];
    const versions = [];
    for (const v of all) {
      // (Apicurio answers 404 here for the versions of a soft-deleted subject: compared as such)
      const got = await api(r, "GET", `/subjects/${s}/versions/${v}?deleted=true`);
      versions.push(got.status === 200 ? { version: got.body.version, id: got.body.id, schema: got.body.schema } : { version: v, status: got.status });
    }
    const live = await api(r, "GET", `/subjects/${s}/versions`);
    perSubject[s] = { versions, live: live.status === 200 ? live.body : "deleted", compatibility: (await ok(r, "GET", `/config/${s}`)).compatibilityLevel };
  }
  return { live: ((await ok(r, "GET", "/subjects")) as string[]).sort(), global: (await ok(r, "GET", "/config")).compatibilityLevel, subjects: perSubject };
}

/** The schema IDs in `records` that do not resolve on `other` to the schema they name on `reference`. */
async function idDifferences(records: Array<{ value: Buffer | null }>, reference: Registry, other: Registry): Promise<string[]> {
  const ids = new Set<number>();
  for (const { value } of records) {
    if (!value || value[0] !== 0) throw new Error(`a record without the wire format's magic byte: ${value?.toString("hex")}`);
    ids.add(value.readInt32BE(1));
  }
  const out: string[] = [];
  for (const id of [...ids].sort((x, y) => x - y)) {
    const [want, got] = await Promise.all([api(reference, "GET", `/schemas/ids/${id}`), api(other, "GET", `/schemas/ids/${id}`)]);
    expect(want.status).toBe(200);
    if (got.status !== 200 || got.body.schema !== want.body.schema) out.push(`id ${id}: ${want.body.schema} on the source registry, ${got.status === 200 ? got.body.schema : `HTTP ${got.status}`} on the other`);
  }
  return out;
}

/** Apicurio's read-only mode (a dynamic setting, stored in the journal like everything else). */
async function setReadOnly(r: Registry, on: boolean): Promise<void> {
  const res = await fetch(`${r.admin}/admin/config/properties/apicurio.storage.read-only.enabled`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ value: String(on) }),
  });
  if (!res.ok) throw new Error(`read-only ${on}: HTTP ${res.status} ${await res.text()}`);
}

/** A Confluent wire-format value: magic byte 0, the schema ID big-endian, then the payload. */
function framed(id: number, payload: string): Buffer {
  const head = Buffer.alloc(5);
  head.writeInt32BE(id, 1);
  return Buffer.concat([head, Buffer.from(payload)]);
}

test("a registry on the target reading the linked journal resolves every schema ID in the linked records", async () => {
  const journal = uniqueName("registry-journal");
  const snapshots = uniqueName("registry-snapshots");
  const data = uniqueName("registry-data");

  // the source registry: versions, compatibility per subject and global, soft deletes
  const a = await start(source().bootstrap, journal, snapshots);
  await ok(a, "PUT", "/config", { compatibility: "BACKWARD" });
  const ids: number[] = [];
  for (const [subject, schema] of registrations) ids.push((await ok(a, "POST", `/subjects/${subject}/versions`, { schema })).id);
  await ok(a, "PUT", "/config/orders-value", { compatibility: "FULL" });
  await ok(a, "PUT", "/config/customers-value", { compatibility: "NONE" });
  await ok(a, "DELETE", "/subjects/orders-value/versions/1"); // a soft-deleted version
  await ok(a, "DELETE", "/subjects/legacy-value"); // a soft-deleted subject
  await ok(a, "PUT", "/config", { compatibility: "FORWARD" }); // the global setting changed once

  // records of every ID, soft-deleted ones included (old records keep their IDs)
  await withAdmin(source(), (admin) => admin.createTopics([{ name: data, partitions: 2 }]));
  const producer = new Producer(plain(source()));
  for (let i = 0; i < 60; i++) producer.produce({ topic: data, partition: i % 2, key: `k${i}`, value: framed(ids[i % ids.length]!, `payload ${i}`) });
  await producer.flush();
  await producer.close();
  const before = await registryState(a);
  expect(before.live).toEqual(["customers-value", "orders-value", "payments-value"]);
  expect((before.subjects["legacy-value"] as { live: unknown }).live).toBe("deleted");
  expect((before.subjects["orders-value"] as { live: unknown }).live).toEqual([2, 3]);

  // Cutover, in the README's order. The source registry stops taking writes (read-only: a setting
  // that is itself in the journal, so the target registry starts read-only too); klink copies the
  // journal and the data at identical offsets; the journal is promoted; only then the target
  // registry starts on the copy. (A registry writes a record to its journal when it starts: one
  // started on the target before promote would put a record into a topic klink still copies into,
  // and klink would route it back to the source as dual write: two writers on one journal.)
  await setReadOnly(a, true);
  expect((await api(a, "POST", "/subjects/late-value/versions", { schema: legacyV1 })).status).toBe(409);
  const file = writeMigration({ topics: [data, journal, snapshots], linkName: uniqueName("registry-link") });
  const run = new KlinkRun(file);
  const ends = async (topic: string, partitions: number) => {
    const one = (c: KafkaCluster) => withAdmin(c, (admin) => admin.watermarks(Array.from({ length: partitions }, (_, partition) => ({ topic, partition }))));
    const [s, t] = await Promise.all([one(source()), one(target()).catch(() => [])]);
    return { source: s.map((m) => m.high), target: t.map((m) => m.high) };
  };
  const caughtUp = async (topic: string, partitions: number) => {
    const e = await ends(topic, partitions);
    return e.source.join() === e.target.join();
  };
  await until("the journal and the data copied", async () => (await caughtUp(journal, 1)) && (await caughtUp(data, 2)), 180_000, run);
  for (const topic of [journal, snapshots]) {
    let promoted = await klink(["promote", file, topic]);
    for (let i = 0; i < 40 && promoted.code !== 0; i++) {
      await Bun.sleep(3_000);
      promoted = await klink(["promote", file, topic]);
    }
    expect(promoted.stdout).toContain(`${topic}: promoted`);
  }
  expect(await exactDifferences(source(), target(), journal, 1)).toEqual([]);
  expect(await exactDifferences(source(), target(), data, 2)).toEqual([]);
  const sourceJournalEnd = (await ends(journal, 1)).source;

  const b = await start(target().bootstrap, journal, snapshots);
  const onTarget = await readTopic(target(), data);
  expect(onTarget.length).toBe(60);
  expect(await idDifferences(onTarget, a, b)).toEqual([]);
  expect(await registryState(b)).toEqual(before);
  // read-only until switched, then the target registry takes writes and goes on past the source's IDs
  expect((await api(b, "POST", "/subjects/late-value/versions", { schema: legacyV1 })).status).toBe(409);
  await setReadOnly(b, false);
  const next = (await ok(b, "POST", "/subjects/late-value/versions", { schema: record("Late", [{ name: "z", type: "long" }]) })).id;
  expect(next).toBeGreaterThan(Math.max(...ids));
  // the promoted journal is the target's alone: nothing B wrote went back to the source's journal
  await Bun.sleep(5_000);
  expect((await ends(journal, 1)).source).toEqual(sourceJournalEnd);
  await run.stop();

  // negative check: a registry refilled through the REST API, subject by subject, hands out other IDs
  const c = await start(target().bootstrap, uniqueName("registry-refilled"), uniqueName("registry-refilled-snapshots"));
  for (const subject of ["customers-value", "legacy-value", "orders-value", "payments-value"])
    for (const [s, schema] of registrations) if (s === subject) await ok(c, "POST", `/subjects/${subject}/versions`, { schema });
  expect((await idDifferences(onTarget, a, c)).length).toBeGreaterThan(0);
}, 600_000);

test("a target registry started before promote writes into the linked journal: klink routes its record to the source (why the README says: after promote)", async () => {
  const journal = uniqueName("registry-early-journal");
  const snapshots = uniqueName("registry-early-snapshots");
  const a = await start(source().bootstrap, journal, snapshots);
  await ok(a, "POST", "/subjects/orders-value/versions", { schema: orderV1 });
  const file = writeMigration({ topics: [journal, snapshots], linkName: uniqueName("registry-early") });
  const run = new KlinkRun(file);
  const end = async (c: KafkaCluster) => (await withAdmin(c, (admin) => admin.watermarks([{ topic: journal, partition: 0 }])).catch(() => [{ high: -1 }]))[0]!.high;
  const sourceEnd = await end(source());
  await until("the journal copied", async () => (await end(target())) === sourceEnd, 180_000, run);

  await start(target().bootstrap, journal, snapshots);
  await until("klink sees a record written on the target", () => run.output.includes(`records written straight to the target from offset ${sourceEnd}`), 120_000, run);
  await until("the target registry's record routed to the source journal", async () => (await end(source())) === sourceEnd + 1, 120_000, run);
  await run.stop();
}, 600_000);
