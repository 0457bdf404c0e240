// bun test/old-sources/start.ts VERSION | stop VERSION: one old source cluster, by hand (run.ts does both itself).
import { startZkCluster, stopZkCluster, isOldVersion, type ZkCluster } from "../harness/zookeeper.ts";
import { readClusters } from "../harness/state.ts";
const [cmd, version] = process.argv.slice(2);
if (!version || !isOldVersion(version) || (cmd !== "start" && cmd !== "stop")) {
  console.error("usage: bun test/old-sources/start.ts start|stop 2.8.2|2.4.1|1.1.1|0.10.2.2");
  process.exit(1);
}
const name = `old-${version}`;
if (cmd === "start") {
  const c = await startZkCluster({ name, version });
  console.log(`${name}: Kafka ${version} (ZooKeeper mode) on ${c.bootstrap}, ZooKeeper on 127.0.0.1:${c.zookeeper.port}`);
} else {
  const c = readClusters()[name] as ZkCluster | undefined;
  if (c) await stopZkCluster(c);
  console.log(`${name} stopped`);
}
