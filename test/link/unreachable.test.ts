/**
 * A cluster that does not answer (issue 13, "fail fast and clearly"): `run` and `verify` say in one
 * line which cluster and address, exit 2, and write no state. (Before, they printed librdkafka's
 * lines and an admin timeout after 30 s, and `run` had created the state file.)
 */
import { test, expect } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { dirname } from "node:path";
import { writeMigration, klink } from "./klink-process.ts";
import { source, uniqueName, withAdmin } from "../helpers.ts";
import { freePorts, type KafkaCluster } from "../harness/cluster.ts";

for (const command of ["run", "verify"]) {
  test(`klink ${command} with the target down: one line naming the target and its address, exit 2, no state written`, async () => {
    const port = (await freePorts(1))[0];
    const down = { bootstrap: `127.0.0.1:${port}` } as KafkaCluster;
    const topic = uniqueName("down");
    await withAdmin(source(), (a) => a.createTopics([{ name: topic, partitions: 1 }]));
    const file = writeMigration({ topics: [topic], linkName: uniqueName("down"), to: down });
    const r = await klink([command, file], 120_000);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`target cluster (127.0.0.1:${port})`);
    expect(lines[0]).toContain("Connection refused");
    expect(readdirSync(dirname(file))).toEqual(["migration.yaml"]);
    expect(existsSync(`${dirname(file)}/migration.klink.db`)).toBe(false);
  }, 180_000);
}

test("klink offsets with storage: kafka and the target down: one line naming the target, exit 2 (was 30 s of librdkafka lines, exit 1)", async () => {
  const port = (await freePorts(1))[0];
  const down = { bootstrap: `127.0.0.1:${port}` } as KafkaCluster;
  const file = writeMigration({ topics: ["t"], linkName: uniqueName("down-offsets"), to: down, extra: "storage:\n  plugin: kafka\n" });
  const r = await klink(["offsets", "translate", file, "--topic", "t", "--partition", "0", "--offset", "5"], 120_000);
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(`target cluster (127.0.0.1:${port})`);
  expect(lines[0]).toContain("Connection refused");
}, 180_000);
