import { test, expect } from "bun:test";
import { Producer, Consumer, Offset } from "../../src/rdkafka/index.ts";
import { source, target, plain, uniqueName, withAdmin, consumeCount } from "../helpers.ts";

for (const which of ["source", "target"] as const) {
  test(`${which}: aborted transactional records are invisible to read_committed, visible to read_uncommitted`, async () => {
    const cluster = which === "source" ? source() : target();
    const topic = uniqueName("txn");
    await withAdmin(cluster, (a) => a.createTopics([{ name: topic, partitions: 1 }]));

    const producer = new Producer(plain(cluster, { "transactional.id": uniqueName("txn-id"), "linger.ms": 1 }));
    try {
      producer.initTransactions();
      // committed: c0..c2 (offsets 0-2), marker @3; aborted: a0..a3 (4-7), marker @8; committed: c3 (9), marker @10
      producer.beginTransaction();
      for (let i = 0; i < 3; i++) producer.produce({ topic, partition: 0, value: `c${i}` });
      await producer.commitTransaction();
      producer.beginTransaction();
      for (let i = 0; i < 4; i++) producer.produce({ topic, partition: 0, value: `a${i}` });
      await producer.flush(); // the aborted records really reach the log
      await producer.abortTransaction();
      producer.beginTransaction();
      producer.produce({ topic, partition: 0, value: "c3" });
      await producer.commitTransaction();
    } finally {
      await producer.close();
    }

    const read = async (isolation: string, count: number) => {
      const c = new Consumer(plain(cluster, { "isolation.level": isolation }));
      const seen: string[] = [];
      c.assign([{ topic, partition: 0, offset: Offset.BEGINNING }]);
      await consumeCount(c, count, (m) => seen.push(`${m.offset}:${m.value()}`));
      c.close();
      return seen;
    };
    // The default consumer is read_committed: the binding sets it unless told otherwise.
    const defaultConsumer = new Consumer(plain(cluster));
    defaultConsumer.assign([{ topic, partition: 0, offset: Offset.BEGINNING }]);
    const byDefault: string[] = [];
    await consumeCount(defaultConsumer, 4, (m) => byDefault.push(`${m.offset}:${m.value()}`));
    defaultConsumer.close();

    expect(byDefault).toEqual(["0:c0", "1:c1", "2:c2", "9:c3"]);
    expect(await read("read_committed", 4)).toEqual(["0:c0", "1:c1", "2:c2", "9:c3"]);
    expect(await read("read_uncommitted", 8)).toEqual(["0:c0", "1:c1", "2:c2", "4:a0", "5:a1", "6:a2", "7:a3", "9:c3"]);
    const hw = await withAdmin(cluster, (a) => a.watermarks([{ topic, partition: 0 }]));
    expect(hw[0]!.high).toBe(11);
  }, 120_000);
}
