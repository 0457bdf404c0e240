// Child process of sqlite.test.ts: writes batches to a state file until it is killed, printing
// "committed N" once batch N's write has resolved.
import { SqliteStore } from "../../plugins/storage/sqlite.ts";

const store = new SqliteStore(process.argv[2]!);
for (let batch = 1; ; batch++) {
  const offsets = Array.from({ length: 10 }, (_, i) => ({ topic: "t", partition: 0, sourceOffset: batch * 10 + i, targetOffset: batch * 10 + i, origin: "source" as const }));
  await store.write([{ offsets }, { put: "last-batch", value: String(batch) }, { topic: "t", state: "mirroring", detail: `batch ${batch}` }]);
  console.log(`committed ${batch}`);
}
