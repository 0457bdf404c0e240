/**
 * The Admin API. Each call builds its request objects, sends them with a fresh result queue,
 * waits for the result event without blocking the JS thread, copies the answer into plain JS
 * objects and frees every native object it made (request objects right after the call, the
 * result with its event). Partition-level and topic-level errors become KafkaErrors that name
 * the cluster, topic and partition.
 *
 * Long because: one self-contained method per Admin API call (build, call, read, free), over
 * helpers they share; split by call, a reader would lose the one pattern they all follow.
 */
import { read, ptr } from "bun:ffi";
import { rdkafka, cbuf, cstr } from "./library.ts";
import { Client, HandleType, type ClientOptions } from "./client.ts";
import type { ClientConfig } from "./config.ts";
import { KafkaError, ErrorCode, LEADER_MOVING, fromErrorObject, checkErrorObject, errorDescription } from "./errors.ts";
import { toNativeList, fromNativeList, fromNativeElement, destroyList, Offset, type TopicPartition, type TopicPartitionOffset } from "./partitions.ts";
import { waitFor } from "./poller.ts";
import { newNativeAcl, readNativeAcl, readOperations, aclText, type AclBinding, type AclFilter, type AclOperation } from "./acls.ts";

const ADMIN_OP_ANY = 0;
const RESOURCE_TOPIC = 2;
const RESOURCE_BROKER = 4;

/** Partition errors that last while a leader moves: LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, OFFSET_NOT_AVAILABLE. */
const LEADER_MOVE_MS = 30_000;
export const AlterConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;
export const OffsetSpec = { EARLIEST: -2, LATEST: -1, MAX_TIMESTAMP: -3 } as const;
export const ConfigSource = ["UNKNOWN", "DYNAMIC_TOPIC", "DYNAMIC_BROKER", "DYNAMIC_DEFAULT_BROKER", "STATIC_BROKER", "DEFAULT", "", "", "GROUP"];

export interface NewTopic {
  name: string;
  partitions: number;
  /** -1: the broker's default. */
  replicationFactor?: number;
  configs?: Record<string, string>;
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  source: string;
  isDefault: boolean;
  isReadOnly: boolean;
  isSensitive: boolean;
}

export interface Node {
  id: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface TopicDescription {
  name: string;
  isInternal: boolean;
  partitions: Array<{ partition: number; leader: Node | null; replicas: number[]; isr: number[] }>;
}

export interface ClusterDescription {
  clusterId: string | null;
  controller: Node | null;
  nodes: Node[];
}

export interface GroupListing {
  groupId: string;
  isSimple: boolean;
  state: string;
  type: string;
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  host: string;
  groupInstanceId: string | null;
  assignment: TopicPartition[];
}

export interface GroupDescription {
  groupId: string;
  isSimple: boolean;
  /** The assignor chosen by the group ("range", "cooperative-sticky", ... or "" when none). */
  partitionAssignor: string;
  state: string;
  /** "Classic" or "Consumer" (KIP-848), "Unknown" on brokers that do not say. */
  type: string;
  coordinator: Node | null;
  members: GroupMember[];
}

export interface ListOffsetsResult extends TopicPartitionOffset {
  timestamp: number;
}

export interface AdminOptions {
  /** Request timeout in ms (default 30 s). */
  timeoutMs?: number;
}

const sizeOut = () => new BigUint64Array(1);
/** COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR. */
const COORDINATOR_ERRORS = new Set([14, 15, 16]);

export class Admin extends Client {
  private readonly timeoutMs: number;
  /** Requests sent and not settled: the handle is destroyed only once none is left (close()). */
  private inFlight = 0;
  private closing = false;

  constructor(config: ClientConfig, options: ClientOptions & AdminOptions = {}) {
    super(HandleType.PRODUCER, config, 0, options);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.startPolling();
  }

  /**
   * Sends one admin request and resolves with the result event's payload as parsed by `parse`.
   * `send(options, queue)` must call the librdkafka function.
   */
  private async request<T>(what: string, send: (options: number, queue: number) => void, parse: (event: number) => T): Promise<T> {
    this.checkOpen(what);
    this.inFlight++;
    try {
      return await this.requestOnce(what, send, parse);
    } finally {
      if (--this.inFlight === 0 && this.closing) this.destroyHandle();
    }
  }

  /**
   * A request on a closed Admin is refused before it touches the handle: a caller that closed it
   * while another of its requests still retried (watermarks' two halves) crashed the process.
   */
  private checkOpen(what: string): void {
    if (this.closing) throw new KafkaError(ErrorCode.DESTROY, `${what}: this admin client was closed`);
  }

  private async requestOnce<T>(what: string, send: (options: number, queue: number) => void, parse: (event: number) => T): Promise<T> {
    const lib = rdkafka();
    const queue = lib.rd_kafka_queue_new(this.handle)!;
    const options = lib.rd_kafka_AdminOptions_new(this.handle, ADMIN_OP_ANY)!;
    const errstr = Buffer.alloc(256);
    lib.rd_kafka_AdminOptions_set_request_timeout(options, this.timeoutMs, errstr, errstr.length);
    lib.rd_kafka_AdminOptions_set_operation_timeout(options, this.timeoutMs, errstr, errstr.length);
    try {
      send(options, queue);
      const event = await waitFor(
        () => lib.rd_kafka_queue_poll(queue, 0) || undefined,
        this.timeoutMs + 5_000,
        () => new KafkaError(ErrorCode.TIMED_OUT, `${what}: no answer within ${this.timeoutMs} ms`),
      );
      try {
        // Check the event error first: some result accessors abort on errored results.
        const code = lib.rd_kafka_event_error(event);
        if (code) throw new KafkaError(code, `${what}: ${lib.rd_kafka_event_error_string(event)}`);
        return parse(event);
      } finally {
        lib.rd_kafka_event_destroy(event);
      }
    } finally {
      lib.rd_kafka_AdminOptions_destroy(options);
      lib.rd_kafka_queue_destroy(queue);
    }
  }

  // --- Topics

  /** `validateOnly`: the broker checks the request (configs, partitions, replicas) and creates nothing. */
  async createTopics(topics: NewTopic[], options: { validateOnly?: boolean } = {}): Promise<void> {
    const lib = rdkafka();
    const errstr = Buffer.alloc(512);
    await withRequestObjects(lib.rd_kafka_NewTopic_destroy, async (own) => {
      const handles = topics.map((t) => {
        const h = lib.rd_kafka_NewTopic_new(cbuf(t.name), t.partitions, t.replicationFactor ?? -1, errstr, errstr.length);
        if (!h) throw new KafkaError(ErrorCode.INVALID_ARG, `create topic ${t.name}: ${errstr.toString("utf8", 0, errstr.indexOf(0))}`);
        own(h);
        for (const [k, v] of Object.entries(t.configs ?? {})) {
          const err = lib.rd_kafka_NewTopic_set_config(h, cbuf(k), cbuf(v));
          if (err) throw new KafkaError(err, `create topic ${t.name}: config ${k}: ${errorDescription(err)}`);
        }
        return h;
      });
      await this.request(
        "create topics",
        (o, q) => {
          if (options.validateOnly) lib.rd_kafka_AdminOptions_set_validate_only(o, 1, errstr, errstr.length);
          lib.rd_kafka_CreateTopics(this.handle, pointerArray(handles), handles.length, o, q);
        },
        (ev) => checkTopicResults(lib.rd_kafka_event_CreateTopics_result(ev)!, lib.rd_kafka_CreateTopics_result_topics, "create topic"),
      );
    });
  }

  async deleteTopics(names: string[]): Promise<void> {
    const lib = rdkafka();
    await withRequestObjects(lib.rd_kafka_DeleteTopic_destroy, async (own) => {
      const handles = names.map((n) => own(lib.rd_kafka_DeleteTopic_new(cbuf(n))!));
      await this.request(
        "delete topics",
        (o, q) => lib.rd_kafka_DeleteTopics(this.handle, pointerArray(handles), handles.length, o, q),
        (ev) => checkTopicResults(lib.rd_kafka_event_DeleteTopics_result(ev)!, lib.rd_kafka_DeleteTopics_result_topics, "delete topic"),
      );
    });
  }

  /** Raises the partition count of each topic to `totalCount`. */
  async createPartitions(requests: Array<{ topic: string; totalCount: number }>): Promise<void> {
    const lib = rdkafka();
    const errstr = Buffer.alloc(512);
    await withRequestObjects(lib.rd_kafka_NewPartitions_destroy, async (own) => {
      const handles = requests.map((r) => {
        const h = lib.rd_kafka_NewPartitions_new(cbuf(r.topic), r.totalCount, errstr, errstr.length);
        if (!h) throw new KafkaError(ErrorCode.INVALID_ARG, `create partitions ${r.topic}: ${errstr.toString("utf8", 0, errstr.indexOf(0))}`);
        return own(h);
      });
      await this.request(
        "create partitions",
        (o, q) => lib.rd_kafka_CreatePartitions(this.handle, pointerArray(handles), handles.length, o, q),
        (ev) => checkTopicResults(lib.rd_kafka_event_CreatePartitions_result(ev)!, lib.rd_kafka_CreatePartitions_result_topics, "create partitions"),
      );
    });
  }

  /**
   * Refreshes this client's cached metadata (leaders, leader epochs) of `topic`. Blocks the JS
   * thread until the answer or `timeoutMs`; failures are left to the caller's next request.
   */
  refreshTopicMetadata(topic: string, timeoutMs = 1_000): void {
    if (this.closing) return;
    const lib = rdkafka();
    const rkt = lib.rd_kafka_topic_new(this.handle, cbuf(topic), null);
    if (!rkt) return;
    try {
      const out = new BigUint64Array(1);
      if (lib.rd_kafka_metadata(this.handle, 0, rkt, out, timeoutMs) === 0) lib.rd_kafka_metadata_destroy(Number(out[0]));
    } finally {
      lib.rd_kafka_topic_destroy(rkt);
    }
  }

  /**
   * Every topic of the cluster with its partition count (the Metadata API). Blocks the JS thread
   * until the answer or `timeoutMs`; topics the broker reports with an error are left out.
   * Layout: rd_kafka_metadata_t { broker_cnt @0, brokers @8, topic_cnt @16, topics @24 };
   * rd_kafka_metadata_topic_t (32 bytes) { topic @0, partition_cnt @8, partitions @16, err @24 }.
   */
  listTopics(timeoutMs = 15_000): Array<{ name: string; partitions: number }> {
    this.checkOpen("list topics");
    const lib = rdkafka();
    const out = new BigUint64Array(1);
    const err = lib.rd_kafka_metadata(this.handle, 1, null, out, timeoutMs);
    if (err) throw new KafkaError(err, `list topics: ${errorDescription(err)}`);
    const md = Number(out[0]);
    try {
      const count = read.i32(md as never, 16);
      const topics = read.ptr(md as never, 24);
      const result: Array<{ name: string; partitions: number }> = [];
      for (let i = 0; i < count; i++) {
        const t = topics + i * 32;
        if (read.i32(t as never, 24) !== 0) continue;
        result.push({ name: cstr(read.ptr(t as never, 0))!, partitions: read.i32(t as never, 8) });
      }
      return result;
    } finally {
      lib.rd_kafka_metadata_destroy(md);
    }
  }

  async describeTopics(names: string[]): Promise<TopicDescription[]> {
    const lib = rdkafka();
    const nameBufs = names.map(cbuf);
    const collection = lib.rd_kafka_TopicCollection_of_topic_names(pointerArray(nameBufs), names.length)!;
    try {
      return await this.request(
        "describe topics",
        (o, q) => lib.rd_kafka_DescribeTopics(this.handle, collection, o, q),
        (ev) => {
          const n = sizeOut();
          const arr = lib.rd_kafka_DescribeTopics_result_topics(lib.rd_kafka_event_DescribeTopics_result(ev)!, n);
          return readPointers(arr, n).map((t) => {
            const error = lib.rd_kafka_TopicDescription_error(t);
            const name = String(lib.rd_kafka_TopicDescription_name(t));
            if (error && lib.rd_kafka_error_code(error)) throw fromErrorObject(error, `describe topic ${name}`, false);
            const pn = sizeOut();
            const parts = readPointers(lib.rd_kafka_TopicDescription_partitions(t, pn), pn).map((p) => {
              const rn = sizeOut();
              const replicas = readPointers(lib.rd_kafka_TopicPartitionInfo_replicas(p, rn), rn).map((x) => lib.rd_kafka_Node_id(x));
              const isrn = sizeOut();
              const isr = readPointers(lib.rd_kafka_TopicPartitionInfo_isr(p, isrn), isrn).map((x) => lib.rd_kafka_Node_id(x));
              return { partition: lib.rd_kafka_TopicPartitionInfo_partition(p), leader: readNode(lib.rd_kafka_TopicPartitionInfo_leader(p)), replicas, isr };
            });
            return { name, isInternal: lib.rd_kafka_TopicDescription_is_internal(t) !== 0, partitions: parts };
          });
        },
      );
    } finally {
      lib.rd_kafka_TopicCollection_destroy(collection);
    }
  }

  async describeCluster(): Promise<ClusterDescription> {
    const lib = rdkafka();
    return this.request(
      "describe cluster",
      (o, q) => lib.rd_kafka_DescribeCluster(this.handle, o, q),
      (ev) => {
        const res = lib.rd_kafka_event_DescribeCluster_result(ev)!;
        const n = sizeOut();
        return {
          clusterId: nullableString(lib.rd_kafka_DescribeCluster_result_cluster_id(res)),
          controller: readNode(lib.rd_kafka_DescribeCluster_result_controller(res)),
          nodes: readPointers(lib.rd_kafka_DescribeCluster_result_nodes(res, n), n).map((x) => readNode(x)!),
        };
      },
    );
  }

  // --- Configs

  async describeTopicConfigs(topic: string): Promise<ConfigEntry[]> {
    return this.describeConfigs(RESOURCE_TOPIC, topic);
  }

  async describeBrokerConfigs(brokerId: number): Promise<ConfigEntry[]> {
    return this.describeConfigs(RESOURCE_BROKER, String(brokerId));
  }

  private async describeConfigs(type: number, name: string): Promise<ConfigEntry[]> {
    const [found] = await this.describeManyConfigs(type, [name]);
    if (found instanceof KafkaError) throw found;
    return found!;
  }

  /**
   * The configs of many topics in one request (a link of 1,000 topics syncs them every round);
   * a topic's own error (deleted, not authorized) is its entry, in the order of `topics`.
   */
  async describeTopicsConfigs(topics: string[]): Promise<Array<ConfigEntry[] | KafkaError>> {
    return this.describeManyConfigs(RESOURCE_TOPIC, topics);
  }

  private async describeManyConfigs(type: number, names: string[]): Promise<Array<ConfigEntry[] | KafkaError>> {
    if (names.length === 0) return [];
    const lib = rdkafka();
    const resources = names.map((name) => lib.rd_kafka_ConfigResource_new(type, cbuf(name))!);
    const what = names.length === 1 ? `describe configs of ${names[0]}` : `describe configs of ${names.length} topics`;
    try {
      return await this.request(
        what,
        (o, q) => lib.rd_kafka_DescribeConfigs(this.handle, pointerArray(resources), resources.length, o, q),
        (ev) => {
          const n = sizeOut();
          const found = new Map<string, ConfigEntry[] | KafkaError>();
          for (const res of readPointers(lib.rd_kafka_DescribeConfigs_result_resources(lib.rd_kafka_event_DescribeConfigs_result(ev)!, n), n)) {
            const name = String(lib.rd_kafka_ConfigResource_name(res));
            try {
              checkResourceError(res, `describe configs of ${name}`);
            } catch (err) {
              found.set(name, err as KafkaError);
              continue;
            }
            const cn = sizeOut();
            found.set(name, readPointers(lib.rd_kafka_ConfigResource_configs(res, cn), cn).map((e) => ({
              name: String(lib.rd_kafka_ConfigEntry_name(e)),
              value: cstr(lib.rd_kafka_ConfigEntry_value(e)),
              source: ConfigSource[lib.rd_kafka_ConfigEntry_source(e)] ?? "UNKNOWN",
              isDefault: lib.rd_kafka_ConfigEntry_is_default(e) !== 0,
              isReadOnly: lib.rd_kafka_ConfigEntry_is_read_only(e) !== 0,
              isSensitive: lib.rd_kafka_ConfigEntry_is_sensitive(e) !== 0,
            })));
          }
          return names.map((name) => found.get(name) ?? new KafkaError(ErrorCode.FAIL, `describe configs of ${name}: not in the answer`));
        },
      );
    } finally {
      for (const r of resources) lib.rd_kafka_ConfigResource_destroy(r);
    }
  }

  /** Sets / deletes / appends / subtracts topic configs, leaving the others as they are. */
  async incrementalAlterTopicConfigs(topic: string, ops: Array<{ name: string; op?: number; value?: string | null }>): Promise<void> {
    const lib = rdkafka();
    const resource = lib.rd_kafka_ConfigResource_new(RESOURCE_TOPIC, cbuf(topic))!;
    try {
      for (const o of ops) {
        checkErrorObject(
          lib.rd_kafka_ConfigResource_add_incremental_config(resource, cbuf(o.name), o.op ?? AlterConfigOp.SET, o.value == null ? null : cbuf(o.value)),
          `alter config ${o.name} of ${topic}`,
        );
      }
      await this.request(
        `alter configs of ${topic}`,
        (o, q) => lib.rd_kafka_IncrementalAlterConfigs(this.handle, pointerArray([resource]), 1, o, q),
        (ev) => {
          const n = sizeOut();
          const res = readPointers(lib.rd_kafka_IncrementalAlterConfigs_result_resources(lib.rd_kafka_event_IncrementalAlterConfigs_result(ev)!, n), n);
          for (const r of res) checkResourceError(r, `alter configs of ${topic}`);
        },
      );
    } finally {
      lib.rd_kafka_ConfigResource_destroy(resource);
    }
  }

  // --- Offsets and records

  /**
   * ListOffsets: `offset` of each request is a spec (OffsetSpec.EARLIEST / LATEST /
   * MAX_TIMESTAMP) or a timestamp in ms (the earliest offset whose timestamp is >= it; -1 when
   * none). `readCommitted` (default true) answers the last stable offset for LATEST.
   */
  /**
   * Offsets per partition. A partition whose leader is moving (a broker restarting, a new leader
   * epoch not known everywhere yet) answers with a transient error: asked again for up to 30 s.
   */
  async listOffsets(requests: TopicPartitionOffset[], readCommitted = true): Promise<ListOffsetsResult[]> {
    const deadline = Date.now() + LEADER_MOVE_MS;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
      try {
        return await this.listOffsetsOnce(requests, readCommitted);
      } catch (err) {
        if (!(err instanceof KafkaError) || !LEADER_MOVING.has(err.code) || Date.now() > deadline) throw err;
        // ListOffsets sends the leader epoch of this client's metadata cache, which librdkafka may
        // not refresh for minutes: after a broker restart every answer is FENCED_LEADER_EPOCH.
        for (const topic of new Set(requests.map((r) => r.topic))) this.refreshTopicMetadata(topic);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async listOffsetsOnce(requests: TopicPartitionOffset[], readCommitted: boolean): Promise<ListOffsetsResult[]> {
    const lib = rdkafka();
    const list = toNativeList(requests);
    try {
      return await this.request(
        "list offsets",
        (o, q) => {
          checkErrorObject(lib.rd_kafka_AdminOptions_set_isolation_level(o, readCommitted ? 1 : 0), "list offsets isolation level");
          lib.rd_kafka_ListOffsets(this.handle, list, o, q);
        },
        (ev) => {
          const n = sizeOut();
          return readPointers(lib.rd_kafka_ListOffsets_result_infos(lib.rd_kafka_event_ListOffsets_result(ev)!, n), n).map((info) => {
            const tp = fromNativeElement(lib.rd_kafka_ListOffsetsResultInfo_topic_partition(info)!);
            if (tp.error) throw new KafkaError(tp.error, `list offsets ${tp.topic}[${tp.partition}]: ${errorDescription(tp.error)}`);
            // No error and no offset: librdkafka's answer when the partition had no leader until the request timed out
            if (tp.offset === Offset.INVALID) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `list offsets ${tp.topic}[${tp.partition}]: no offset in the answer (the partition has no leader?)`);
            return { ...tp, timestamp: lib.rd_kafka_ListOffsetsResultInfo_timestamp(info) };
          });
        },
      ).catch((err) => {
        // librdkafka's answer when no partition asked has a leader: as leader-moving as a partition's own error
        if (err instanceof KafkaError && err.code === ErrorCode.NOENT) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `${err.message}; the partitions have no leader`);
        throw err;
      });
    } finally {
      destroyList(list);
    }
  }

  /** Low and high watermarks (log start offset, log end offset) per partition. */
  async watermarks(partitions: TopicPartition[], readCommitted = false): Promise<Array<TopicPartition & { low: number; high: number }>> {
    const [low, high] = await Promise.all([
      this.listOffsets(partitions.map((p) => ({ ...p, offset: OffsetSpec.EARLIEST })), readCommitted),
      this.listOffsets(partitions.map((p) => ({ ...p, offset: OffsetSpec.LATEST })), readCommitted),
    ]);
    const key = (p: TopicPartition) => `${p.topic}\0${p.partition}`;
    const highs = new Map(high.map((h) => [key(h), h.offset]));
    return low.map((l) => ({ topic: l.topic, partition: l.partition, low: l.offset, high: highs.get(key(l)) ?? -1 }));
  }

  /** Deletes records before `offset` in each partition; returns the new log start offsets. */
  async deleteRecords(beforeOffsets: TopicPartitionOffset[]): Promise<TopicPartitionOffset[]> {
    const lib = rdkafka();
    const list = toNativeList(beforeOffsets);
    const del = lib.rd_kafka_DeleteRecords_new(list)!;
    try {
      return await this.request(
        "delete records",
        (o, q) => lib.rd_kafka_DeleteRecords(this.handle, pointerArray([del]), 1, o, q),
        (ev) => {
          const out = fromNativeList(lib.rd_kafka_DeleteRecords_result_offsets(lib.rd_kafka_event_DeleteRecords_result(ev)!));
          const bad = out.find((p) => p.error);
          if (bad) throw new KafkaError(bad.error!, `delete records ${bad.topic}[${bad.partition}]: ${errorDescription(bad.error!)}`);
          return out;
        },
      );
    } finally {
      lib.rd_kafka_DeleteRecords_destroy(del);
      destroyList(list);
    }
  }

  // --- Consumer groups

  /**
   * Group requests go to the group's coordinator, which may still be loading or moving (right
   * after a broker start, or during failover): retry those answers for up to the request timeout.
   */
  private async withCoordinatorRetry<T>(call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        return await call();
      } catch (err) {
        const retriable = err instanceof KafkaError && COORDINATOR_ERRORS.has(err.code);
        if (!retriable || Date.now() > deadline) throw err;
        await Bun.sleep(delay);
      }
    }
  }

  async listConsumerGroups(): Promise<GroupListing[]> {
    const lib = rdkafka();
    return this.request(
      "list consumer groups",
      (o, q) => lib.rd_kafka_ListConsumerGroups(this.handle, o, q),
      (ev) => {
        const res = lib.rd_kafka_event_ListConsumerGroups_result(ev)!;
        const en = sizeOut();
        const errors = readPointers(lib.rd_kafka_ListConsumerGroups_result_errors(res, en), en);
        if (errors.length) throw fromErrorObject(errors[0]!, "list consumer groups", false);
        const n = sizeOut();
        return readPointers(lib.rd_kafka_ListConsumerGroups_result_valid(res, n), n).map((g) => ({
          groupId: String(lib.rd_kafka_ConsumerGroupListing_group_id(g)),
          isSimple: lib.rd_kafka_ConsumerGroupListing_is_simple_consumer_group(g) !== 0,
          state: String(lib.rd_kafka_consumer_group_state_name(lib.rd_kafka_ConsumerGroupListing_state(g))),
          type: String(lib.rd_kafka_consumer_group_type_name(lib.rd_kafka_ConsumerGroupListing_type(g))),
        }));
      },
    );
  }

  async describeConsumerGroups(groupIds: string[]): Promise<GroupDescription[]> {
    const lib = rdkafka();
    const names = groupIds.map(cbuf);
    return this.withCoordinatorRetry(() => this.request(
      "describe consumer groups",
      (o, q) => lib.rd_kafka_DescribeConsumerGroups(this.handle, pointerArray(names), names.length, o, q),
      (ev) => {
        const n = sizeOut();
        return readPointers(lib.rd_kafka_DescribeConsumerGroups_result_groups(lib.rd_kafka_event_DescribeConsumerGroups_result(ev)!, n), n).map((g) => {
          const groupId = String(lib.rd_kafka_ConsumerGroupDescription_group_id(g));
          const error = lib.rd_kafka_ConsumerGroupDescription_error(g);
          if (error && lib.rd_kafka_error_code(error)) throw fromErrorObject(error, `describe consumer group ${groupId}`, false);
          const members: GroupMember[] = [];
          const count = lib.rd_kafka_ConsumerGroupDescription_member_count(g);
          for (let i = 0; i < count; i++) {
            const m = lib.rd_kafka_ConsumerGroupDescription_member(g, i)!;
            const assignment = lib.rd_kafka_MemberDescription_assignment(m);
            members.push({
              memberId: String(lib.rd_kafka_MemberDescription_consumer_id(m)),
              clientId: String(lib.rd_kafka_MemberDescription_client_id(m)),
              host: String(lib.rd_kafka_MemberDescription_host(m)),
              groupInstanceId: cstr(lib.rd_kafka_MemberDescription_group_instance_id(m)),
              assignment: assignment
                ? fromNativeList(lib.rd_kafka_MemberAssignment_partitions(assignment)).map(({ topic, partition }) => ({ topic, partition }))
                : [],
            });
          }
          return {
            groupId,
            isSimple: lib.rd_kafka_ConsumerGroupDescription_is_simple_consumer_group(g) !== 0,
            partitionAssignor: cstr(lib.rd_kafka_ConsumerGroupDescription_partition_assignor(g)) ?? "",
            state: String(lib.rd_kafka_consumer_group_state_name(lib.rd_kafka_ConsumerGroupDescription_state(g))),
            type: String(lib.rd_kafka_consumer_group_type_name(lib.rd_kafka_ConsumerGroupDescription_type(g))),
            coordinator: readNode(lib.rd_kafka_ConsumerGroupDescription_coordinator(g)),
            members,
          };
        });
      },
    ));
  }

  /** Committed offsets of a group (all its partitions when `partitions` is omitted). */
  async listConsumerGroupOffsets(groupId: string, partitions?: TopicPartition[]): Promise<TopicPartitionOffset[]> {
    const lib = rdkafka();
    const list = partitions ? toNativeList(partitions) : null;
    const req = lib.rd_kafka_ListConsumerGroupOffsets_new(cbuf(groupId), list)!;
    try {
      return await this.withCoordinatorRetry(() => this.request(
        `list offsets of group ${groupId}`,
        (o, q) => lib.rd_kafka_ListConsumerGroupOffsets(this.handle, pointerArray([req]), 1, o, q),
        (ev) => groupResultPartitions(lib.rd_kafka_event_ListConsumerGroupOffsets_result(ev)!, lib.rd_kafka_ListConsumerGroupOffsets_result_groups, groupId),
      ));
    } finally {
      lib.rd_kafka_ListConsumerGroupOffsets_destroy(req);
      if (list) destroyList(list);
    }
  }

  /** Sets a group's committed offsets (the group must be empty on the broker). */
  async alterConsumerGroupOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void> {
    const lib = rdkafka();
    const list = toNativeList(offsets);
    const req = lib.rd_kafka_AlterConsumerGroupOffsets_new(cbuf(groupId), list)!;
    try {
      await this.withCoordinatorRetry(() => this.request(
        `alter offsets of group ${groupId}`,
        (o, q) => lib.rd_kafka_AlterConsumerGroupOffsets(this.handle, pointerArray([req]), 1, o, q),
        (ev) => groupResultPartitions(lib.rd_kafka_event_AlterConsumerGroupOffsets_result(ev)!, lib.rd_kafka_AlterConsumerGroupOffsets_result_groups, groupId),
      ));
    } finally {
      lib.rd_kafka_AlterConsumerGroupOffsets_destroy(req);
      destroyList(list);
    }
  }

  async deleteConsumerGroupOffsets(groupId: string, partitions: TopicPartition[]): Promise<void> {
    const lib = rdkafka();
    const list = toNativeList(partitions);
    const req = lib.rd_kafka_DeleteConsumerGroupOffsets_new(cbuf(groupId), list)!;
    try {
      await this.withCoordinatorRetry(() => this.request(
        `delete offsets of group ${groupId}`,
        (o, q) => lib.rd_kafka_DeleteConsumerGroupOffsets(this.handle, pointerArray([req]), 1, o, q),
        (ev) => groupResultPartitions(lib.rd_kafka_event_DeleteConsumerGroupOffsets_result(ev)!, lib.rd_kafka_DeleteConsumerGroupOffsets_result_groups, groupId),
      ));
    } finally {
      lib.rd_kafka_DeleteConsumerGroupOffsets_destroy(req);
      destroyList(list);
    }
  }

  // --- ACLs

  /**
   * The bindings that match `filter` (every binding the cluster has when it is empty).
   * Beware: librdkafka 2.15 drops the error of a refused DescribeAcls (no authorizer, or no
   * DESCRIBE on the cluster) and answers no bindings; acl-sync.ts readAcls checks first.
   */
  async describeAcls(filter: AclFilter = {}): Promise<AclBinding[]> {
    const lib = rdkafka();
    const native = newNativeAcl(filter, true);
    try {
      return await this.request(
        "describe ACLs",
        (o, q) => lib.rd_kafka_DescribeAcls(this.handle, native, o, q),
        (ev) => {
          const n = sizeOut();
          return readPointers(lib.rd_kafka_DescribeAcls_result_acls(lib.rd_kafka_event_DescribeAcls_result(ev)!, n), n).map(readNativeAcl);
        },
      );
    } finally {
      lib.rd_kafka_AclBinding_destroy(native);
    }
  }

  async createAcls(bindings: AclBinding[]): Promise<void> {
    if (bindings.length === 0) return;
    const lib = rdkafka();
    await withRequestObjects(lib.rd_kafka_AclBinding_destroy, async (own) => {
      const handles = bindings.map((b) => own(newNativeAcl(b, false)));
      await this.request(
        "create ACLs",
        (o, q) => lib.rd_kafka_CreateAcls(this.handle, pointerArray(handles), handles.length, o, q),
        (ev) => {
          const n = sizeOut();
          readPointers(lib.rd_kafka_CreateAcls_result_acls(lib.rd_kafka_event_CreateAcls_result(ev)!, n), n).forEach((r, i) => {
            const error = lib.rd_kafka_acl_result_error(r);
            if (error && lib.rd_kafka_error_code(error)) throw fromErrorObject(error, `create ACL ${aclText(bindings[i]!)}`, false);
          });
        },
      );
    });
  }

  /** Deletes the bindings each filter matches; returns those deleted. */
  async deleteAcls(filters: AclFilter[]): Promise<AclBinding[]> {
    if (filters.length === 0) return [];
    const lib = rdkafka();
    return withRequestObjects(lib.rd_kafka_AclBinding_destroy, async (own) => {
      const handles = filters.map((f) => own(newNativeAcl(f, true)));
      return this.request(
        "delete ACLs",
        (o, q) => lib.rd_kafka_DeleteAcls(this.handle, pointerArray(handles), handles.length, o, q),
        (ev) => {
          const n = sizeOut();
          return readPointers(lib.rd_kafka_DeleteAcls_result_responses(lib.rd_kafka_event_DeleteAcls_result(ev)!, n), n).flatMap((r) => {
            const error = lib.rd_kafka_DeleteAcls_result_response_error(r);
            if (error && lib.rd_kafka_error_code(error)) throw fromErrorObject(error, "delete ACLs", false);
            const mn = sizeOut();
            return readPointers(lib.rd_kafka_DeleteAcls_result_response_matching_acls(r, mn), mn).map(readNativeAcl);
          });
        },
      );
    });
  }

  /**
   * What this client's own principal may do (KIP-430), on each of `topics` and on the cluster:
   * operation names, or null where the broker did not say.
   */
  async authorizedOperations(topics: string[]): Promise<{ topics: Map<string, AclOperation[] | null>; cluster: AclOperation[] | null }> {
    const lib = rdkafka();
    const include = (o: number) => checkErrorObject(lib.rd_kafka_AdminOptions_set_include_authorized_operations(o, 1), "include authorized operations");
    const cluster = await this.request(
      "describe cluster",
      (o, q) => (include(o), lib.rd_kafka_DescribeCluster(this.handle, o, q)),
      (ev) => {
        const n = sizeOut();
        const arr = lib.rd_kafka_DescribeCluster_result_authorized_operations(lib.rd_kafka_event_DescribeCluster_result(ev)!, n);
        return readOperations(arr, Number(n[0]));
      },
    );
    if (topics.length === 0) return { topics: new Map(), cluster };
    const names = topics.map(cbuf);
    const collection = lib.rd_kafka_TopicCollection_of_topic_names(pointerArray(names), names.length)!;
    try {
      const perTopic = await this.request(
        "describe topics",
        (o, q) => (include(o), lib.rd_kafka_DescribeTopics(this.handle, collection, o, q)),
        (ev) => {
          const n = sizeOut();
          return readPointers(lib.rd_kafka_DescribeTopics_result_topics(lib.rd_kafka_event_DescribeTopics_result(ev)!, n), n).map((t) => {
            const name = String(lib.rd_kafka_TopicDescription_name(t));
            const error = lib.rd_kafka_TopicDescription_error(t);
            // a topic it may not even describe: it may do nothing there
            if (error && lib.rd_kafka_error_code(error) === ErrorCode.TOPIC_AUTHORIZATION_FAILED) return [name, [] as AclOperation[]] as const;
            const on = sizeOut();
            return [name, readOperations(lib.rd_kafka_TopicDescription_authorized_operations(t, on), Number(on[0]))] as const;
          });
        },
      );
      return { topics: new Map(perTopic), cluster };
    } finally {
      lib.rd_kafka_TopicCollection_destroy(collection);
    }
  }

  /** Refuses new requests; the handle is destroyed now, or when the last request in flight settles. */
  close(): void {
    this.closing = true;
    if (this.inFlight === 0) this.destroyHandle();
  }
}

/**
 * Runs `use`, which makes native request objects (one per topic, ...) and registers each with
 * `own` as soon as it exists; frees all of them with `destroy` when `use` settles, also when
 * making or configuring a later one failed. (librdkafka copies them into the request: they may
 * be freed as soon as the request call returned.)
 */
async function withRequestObjects<T>(destroy: (h: number) => void, use: (own: (h: number) => number) => Promise<T>): Promise<T> {
  const owned: number[] = [];
  try {
    return await use((h) => (owned.push(h), h));
  } finally {
    for (const h of owned) destroy(h);
  }
}

// --- helpers for reading result arrays

/** An array of pointers as librdkafka wants for `T **` arguments. Keep it reachable during the call. */
function pointerArray(items: Array<number | Uint8Array>): BigUint64Array {
  const arr = new BigUint64Array(Math.max(items.length, 1));
  items.forEach((it, i) => (arr[i] = BigInt(typeof it === "number" ? it : ptr(it))));
  return arr;
}

/** Reads `count[0]` pointers from a `T **` result array. */
function readPointers(arr: number | null, count: BigUint64Array): number[] {
  const n = Number(count[0]);
  const out: number[] = [];
  for (let i = 0; i < n && arr; i++) out.push(read.ptr(arr as never, i * 8));
  return out;
}

function readNode(node: number | null): Node | null {
  if (!node) return null;
  const lib = rdkafka();
  return { id: lib.rd_kafka_Node_id(node), host: String(lib.rd_kafka_Node_host(node)), port: lib.rd_kafka_Node_port(node), rack: nullableString(lib.rd_kafka_Node_rack(node)) };
}

function nullableString(s: { toString(): string } | null): string | null {
  if (s === null || s === undefined) return null;
  const v = String(s);
  return v.length ? v : null;
}

function checkTopicResults(result: number, accessor: (res: number, cnt: BigUint64Array) => number | null, what: string): void {
  const lib = rdkafka();
  const n = sizeOut();
  for (const t of readPointers(accessor(result, n), n)) {
    const code = lib.rd_kafka_topic_result_error(t);
    if (code) {
      const name = String(lib.rd_kafka_topic_result_name(t));
      const detail = String(lib.rd_kafka_topic_result_error_string(t) ?? errorDescription(code));
      throw new KafkaError(code, `${what} ${name}: ${detail}`);
    }
  }
}

function checkResourceError(res: number, what: string): void {
  const lib = rdkafka();
  const code = lib.rd_kafka_ConfigResource_error(res);
  if (code) throw new KafkaError(code, `${what}: ${lib.rd_kafka_ConfigResource_error_string(res) ?? errorDescription(code)}`);
}

function groupResultPartitions(result: number, accessor: (res: number, cnt: BigUint64Array) => number | null, groupId: string): TopicPartitionOffset[] {
  const lib = rdkafka();
  const n = sizeOut();
  const [group] = readPointers(accessor(result, n), n);
  if (!group) throw new KafkaError(ErrorCode.FAIL, `group ${groupId}: empty result`);
  const error = lib.rd_kafka_group_result_error(group);
  if (error) throw fromErrorObject(error, `group ${groupId}`, false);
  const parts = fromNativeList(lib.rd_kafka_group_result_partitions(group));
  const bad = parts.find((p) => p.error);
  if (bad) throw new KafkaError(bad.error!, `group ${groupId} ${bad.topic}[${bad.partition}]: ${errorDescription(bad.error!)}`);
  return parts;
}

export { Offset };
