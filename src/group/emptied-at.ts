/**
 * When a group's coordinator saw the group's last member leave, by the coordinator's own record:
 * when a classic group becomes Empty the coordinator stores its metadata, with no member and
 * the time of the state change, in __consumer_offsets (the partition the group's id hashes to).
 * klink's own poll of DescribeGroups notices the change up to one poll later, and knows nothing
 * of what happened before it started.
 */
import { Consumer, type Admin } from "../rdkafka/index.ts";
import type { Cluster } from "../link/cluster.ts";
import { Reader } from "./wire.ts";

const OFFSETS_TOPIC = "__consumer_offsets";
/** Key version of a group's metadata record (0 and 1 are offset commits). */
const GROUP_METADATA_KEY = 2;

/** The __consumer_offsets partition of `group`: Utils.abs(groupId.hashCode()) % partitions, as the brokers compute it. */
export function offsetsPartition(group: string, partitions: number): number {
  let hash = 0;
  for (let i = 0; i < group.length; i++) hash = (Math.imul(hash, 31) + group.charCodeAt(i)) | 0; // Java String.hashCode (UTF-16 units)
  const abs = hash === -2147483648 ? 0 : Math.abs(hash);
  return abs % partitions;
}

/**
 * The time (ms, the broker's clock) at which the coordinator last stored `group` as having no
 * member, looking at records written from `since` (ms; when klink last saw it with members) to
 * `until` (when klink moved it: later records are klink's own guard joining the group).
 * Throws, saying why, when the records cannot be read or none says the group became empty.
 */
export async function emptiedAt(cluster: Cluster, admin: Admin, group: string, since: number, until: number, timeoutMs = 10_000): Promise<number> {
  const [described] = await admin.describeTopics([OFFSETS_TOPIC]);
  const partition = offsetsPartition(group, described!.partitions.length);
  const [[first], [marks]] = await Promise.all([
    admin.listOffsets([{ topic: OFFSETS_TOPIC, partition, offset: Math.max(0, since - 1_000) }], false), // a second of slack for the brokers' clock
    admin.watermarks([{ topic: OFFSETS_TOPIC, partition }]),
  ]);
  const end = marks!.high;
  const from = first!.offset >= 0 ? first!.offset : end;
  let found: number | null = null;
  const consumer = new Consumer({ ...cluster.config, "enable.partition.eof": true, "isolation.level": "read_uncommitted" }, cluster.options);
  try {
    consumer.assign([{ topic: OFFSETS_TOPIC, partition, offset: from }]);
    const deadline = Date.now() + timeoutMs;
    for (let next = from; next < end; ) {
      if (Date.now() > deadline) throw new Error(`${OFFSETS_TOPIC}[${partition}] read only to offset ${next} of ${end} within ${timeoutMs} ms`);
      for (const m of await consumer.consume(500, 200)) {
        try {
          if (m.isPartitionEof) next = end;
          else if (m.errorCode) throw m.error;
          else if (m.timestamp().timestamp > until) next = end;
          else {
            next = m.offset + 1;
            const state = groupRecord(m.key(), m.value(), group);
            if (state) found = state.members === 0 ? (state.stateTime >= 0 ? state.stateTime : m.timestamp().timestamp) : null;
          }
        } finally {
          m.destroy();
        }
      }
    }
  } finally {
    consumer.close();
  }
  if (found === null) throw new Error(`no record in ${OFFSETS_TOPIC}[${partition}] since ${new Date(since).toISOString()} says group ${group} became empty before ${new Date(until).toISOString()}`);
  return found;
}

/** A metadata record of `group`: its member count and state-change time (-1 when not stored); null for any other record. */
function groupRecord(key: Buffer | null, value: Buffer | null, group: string): { members: number; stateTime: number } | null {
  if (!key || key.length < 2) return null;
  const k = new Reader(key);
  if (k.int16() !== GROUP_METADATA_KEY || k.string() !== group) return null;
  if (!value) return { members: 0, stateTime: -1 }; // a tombstone: the group was deleted
  const v = new Reader(value);
  const version = v.int16();
  const flexible = version >= 4;
  const str = () => (flexible ? v.compactString() : v.string());
  str(); // protocol type
  v.int32(); // generation
  str(); // protocol
  str(); // leader
  const stateTime = version >= 2 ? v.int64() : -1;
  const members = flexible ? v.uvarint() - 1 : v.int32();
  return { members, stateTime };
}
