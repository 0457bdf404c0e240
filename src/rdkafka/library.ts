/**
 * librdkafka's C API through bun:ffi. The shared library is built by scripts/build-librdkafka.sh
 * and embedded in the compiled executable (the `file` import below); KLINK_LIBRDKAFKA overrides
 * the path for development.
 *
 * Conventions for every symbol: "ptr" arguments accept a TypedArray (Bun passes its address, but
 * does NOT keep it alive: the caller keeps it reachable while librdkafka may read it) or a
 * number; "ptr" returns are numbers (0 for NULL); "i64_fast" returns numbers.
 */
import { dlopen, CString, FFIType } from "bun:ffi";
import embeddedPath from "../../native/librdkafka.so" with { type: "file" };

const ptr = "ptr", i32 = "i32", i64 = "i64", cstring = "cstring", none = "void", u16 = "u16";
// 64-bit values returned as JS numbers (offsets, sizes, counts never exceed 2^53).
const i64_fast = FFIType.i64_fast, usize = FFIType.u64_fast;

const symbols = {
  // Version and errors
  rd_kafka_version_str: { args: [], returns: cstring },
  rd_kafka_err2str: { args: [i32], returns: cstring },
  rd_kafka_err2name: { args: [i32], returns: cstring },
  rd_kafka_error_code: { args: [ptr], returns: i32 },
  rd_kafka_error_string: { args: [ptr], returns: cstring },
  rd_kafka_error_is_fatal: { args: [ptr], returns: i32 },
  rd_kafka_error_is_retriable: { args: [ptr], returns: i32 },
  rd_kafka_error_txn_requires_abort: { args: [ptr], returns: i32 },
  rd_kafka_error_destroy: { args: [ptr], returns: none },
  rd_kafka_fatal_error: { args: [ptr, ptr, usize], returns: i32 },

  // Configuration and handles
  rd_kafka_conf_new: { args: [], returns: ptr },
  rd_kafka_conf_destroy: { args: [ptr], returns: none },
  rd_kafka_conf_set: { args: [ptr, ptr, ptr, ptr, usize], returns: i32 },
  rd_kafka_conf_set_events: { args: [ptr, i32], returns: none },
  rd_kafka_new: { args: [i32, ptr, ptr, usize], returns: ptr },
  rd_kafka_destroy: { args: [ptr], returns: none },
  rd_kafka_name: { args: [ptr], returns: cstring },
  rd_kafka_outq_len: { args: [ptr], returns: i32 },
  rd_kafka_purge: { args: [ptr, i32], returns: i32 },
  rd_kafka_topic_new: { args: [ptr, ptr, ptr], returns: ptr },
  rd_kafka_topic_destroy: { args: [ptr], returns: none },
  rd_kafka_topic_name: { args: [ptr], returns: cstring },
  rd_kafka_metadata: { args: [ptr, i32, ptr, ptr, i32], returns: i32 },
  rd_kafka_metadata_destroy: { args: [ptr], returns: none },
  rd_kafka_query_watermark_offsets: { args: [ptr, ptr, i32, ptr, ptr, i32], returns: i32 },
  rd_kafka_oauthbearer_set_token: { args: [ptr, ptr, i64, ptr, ptr, usize, ptr, usize], returns: i32 },
  rd_kafka_oauthbearer_set_token_failure: { args: [ptr, ptr], returns: i32 },

  // Queues and events
  rd_kafka_queue_new: { args: [ptr], returns: ptr },
  rd_kafka_queue_destroy: { args: [ptr], returns: none },
  rd_kafka_queue_get_main: { args: [ptr], returns: ptr },
  rd_kafka_queue_get_consumer: { args: [ptr], returns: ptr },
  rd_kafka_queue_length: { args: [ptr], returns: usize },
  rd_kafka_queue_poll: { args: [ptr, i32], returns: ptr },
  rd_kafka_event_type: { args: [ptr], returns: i32 },
  rd_kafka_event_destroy: { args: [ptr], returns: none },
  rd_kafka_event_message_array: { args: [ptr, ptr, usize], returns: usize },
  rd_kafka_event_error: { args: [ptr], returns: i32 },
  rd_kafka_event_error_string: { args: [ptr], returns: cstring },
  rd_kafka_event_error_is_fatal: { args: [ptr], returns: i32 },
  rd_kafka_event_config_string: { args: [ptr], returns: cstring },

  // Producing
  rd_kafka_produceva: { args: [ptr, ptr, usize], returns: ptr },
  rd_kafka_init_transactions: { args: [ptr, i32], returns: ptr },
  rd_kafka_begin_transaction: { args: [ptr], returns: ptr },
  rd_kafka_commit_transaction: { args: [ptr, i32], returns: ptr },
  rd_kafka_abort_transaction: { args: [ptr, i32], returns: ptr },

  // Messages and headers
  rd_kafka_message_destroy: { args: [ptr], returns: none },
  rd_kafka_message_timestamp: { args: [ptr, ptr], returns: i64_fast },
  rd_kafka_message_leader_epoch: { args: [ptr], returns: i32 },
  rd_kafka_message_headers: { args: [ptr, ptr], returns: i32 },
  rd_kafka_message_detach_headers: { args: [ptr, ptr], returns: i32 },
  rd_kafka_message_set_headers: { args: [ptr, ptr], returns: none },
  rd_kafka_headers_new: { args: [usize], returns: ptr },
  rd_kafka_headers_destroy: { args: [ptr], returns: none },
  rd_kafka_header_add: { args: [ptr, ptr, i64, ptr, i64], returns: i32 },
  rd_kafka_header_get_all: { args: [ptr, usize, ptr, ptr, ptr], returns: i32 },

  // Consuming
  rd_kafka_poll_set_consumer: { args: [ptr], returns: i32 },
  rd_kafka_consume_batch_queue: { args: [ptr, i32, ptr, usize], returns: i64_fast },
  rd_kafka_assign: { args: [ptr, ptr], returns: i32 },
  rd_kafka_incremental_assign: { args: [ptr, ptr], returns: ptr },
  rd_kafka_incremental_unassign: { args: [ptr, ptr], returns: ptr },
  rd_kafka_assignment: { args: [ptr, ptr], returns: i32 },
  rd_kafka_subscribe: { args: [ptr, ptr], returns: i32 },
  rd_kafka_unsubscribe: { args: [ptr], returns: i32 },
  rd_kafka_seek_partitions: { args: [ptr, ptr, i32], returns: ptr },
  rd_kafka_pause_partitions: { args: [ptr, ptr], returns: i32 },
  rd_kafka_resume_partitions: { args: [ptr, ptr], returns: i32 },
  rd_kafka_position: { args: [ptr, ptr], returns: i32 },
  rd_kafka_commit: { args: [ptr, ptr, i32], returns: i32 },
  rd_kafka_committed: { args: [ptr, ptr, i32], returns: i32 },
  rd_kafka_consumer_close: { args: [ptr], returns: i32 },

  // Topic partition lists
  rd_kafka_topic_partition_list_new: { args: [i32], returns: ptr },
  rd_kafka_topic_partition_list_add: { args: [ptr, ptr, i32], returns: ptr },
  rd_kafka_topic_partition_list_destroy: { args: [ptr], returns: none },

  // Admin: options and generic results
  rd_kafka_AdminOptions_new: { args: [ptr, i32], returns: ptr },
  rd_kafka_AdminOptions_destroy: { args: [ptr], returns: none },
  rd_kafka_AdminOptions_set_request_timeout: { args: [ptr, i32, ptr, usize], returns: i32 },
  rd_kafka_AdminOptions_set_operation_timeout: { args: [ptr, i32, ptr, usize], returns: i32 },
  rd_kafka_AdminOptions_set_isolation_level: { args: [ptr, i32], returns: ptr },
  rd_kafka_topic_result_error: { args: [ptr], returns: i32 },
  rd_kafka_topic_result_error_string: { args: [ptr], returns: cstring },
  rd_kafka_topic_result_name: { args: [ptr], returns: cstring },
  rd_kafka_group_result_error: { args: [ptr], returns: ptr },
  rd_kafka_group_result_name: { args: [ptr], returns: cstring },
  rd_kafka_group_result_partitions: { args: [ptr], returns: ptr },
  rd_kafka_Node_id: { args: [ptr], returns: i32 },
  rd_kafka_Node_host: { args: [ptr], returns: cstring },
  rd_kafka_Node_port: { args: [ptr], returns: u16 },
  rd_kafka_Node_rack: { args: [ptr], returns: cstring },

  // Admin: topics and partitions
  rd_kafka_NewTopic_new: { args: [ptr, i32, i32, ptr, usize], returns: ptr },
  rd_kafka_NewTopic_destroy: { args: [ptr], returns: none },
  rd_kafka_NewTopic_set_config: { args: [ptr, ptr, ptr], returns: i32 },
  rd_kafka_CreateTopics: { args: [ptr, ptr, usize, ptr, ptr], returns: none },
  rd_kafka_event_CreateTopics_result: { args: [ptr], returns: ptr },
  rd_kafka_CreateTopics_result_topics: { args: [ptr, ptr], returns: ptr },
  rd_kafka_DeleteTopic_new: { args: [ptr], returns: ptr },
  rd_kafka_DeleteTopic_destroy: { args: [ptr], returns: none },
  rd_kafka_DeleteTopics: { args: [ptr, ptr, usize, ptr, ptr], returns: none },
  rd_kafka_event_DeleteTopics_result: { args: [ptr], returns: ptr },
  rd_kafka_DeleteTopics_result_topics: { args: [ptr, ptr], returns: ptr },
  rd_kafka_NewPartitions_new: { args: [ptr, usize, ptr, usize], returns: ptr },
  rd_kafka_NewPartitions_destroy: { args: [ptr], returns: none },
  rd_kafka_CreatePartitions: { args: [ptr, ptr, usize, ptr, ptr], returns: none },
  rd_kafka_event_CreatePartitions_result: { args: [ptr], returns: ptr },
  rd_kafka_CreatePartitions_result_topics: { args: [ptr, ptr], returns: ptr },
  rd_kafka_TopicCollection_of_topic_names: { args: [ptr, usize], returns: ptr },
  rd_kafka_TopicCollection_destroy: { args: [ptr], returns: none },
  rd_kafka_DescribeTopics: { args: [ptr, ptr, ptr, ptr], returns: none },
  rd_kafka_event_DescribeTopics_result: { args: [ptr], returns: ptr },
  rd_kafka_DescribeTopics_result_topics: { args: [ptr, ptr], returns: ptr },
  rd_kafka_TopicDescription_name: { args: [ptr], returns: cstring },
  rd_kafka_TopicDescription_error: { args: [ptr], returns: ptr },
  rd_kafka_TopicDescription_is_internal: { args: [ptr], returns: i32 },
  rd_kafka_TopicDescription_partitions: { args: [ptr, ptr], returns: ptr },
  rd_kafka_TopicPartitionInfo_partition: { args: [ptr], returns: i32 },
  rd_kafka_TopicPartitionInfo_leader: { args: [ptr], returns: ptr },
  rd_kafka_TopicPartitionInfo_isr: { args: [ptr, ptr], returns: ptr },
  rd_kafka_TopicPartitionInfo_replicas: { args: [ptr, ptr], returns: ptr },
  rd_kafka_DescribeCluster: { args: [ptr, ptr, ptr], returns: none },
  rd_kafka_event_DescribeCluster_result: { args: [ptr], returns: ptr },
  rd_kafka_DescribeCluster_result_nodes: { args: [ptr, ptr], returns: ptr },
  rd_kafka_DescribeCluster_result_controller: { args: [ptr], returns: ptr },
  rd_kafka_DescribeCluster_result_cluster_id: { args: [ptr], returns: cstring },

  // Admin: configs
  rd_kafka_ConfigResource_new: { args: [i32, ptr], returns: ptr },
  rd_kafka_ConfigResource_destroy: { args: [ptr], returns: none },
  rd_kafka_ConfigResource_add_incremental_config: { args: [ptr, ptr, i32, ptr], returns: ptr },
  rd_kafka_ConfigResource_configs: { args: [ptr, ptr], returns: ptr },
  rd_kafka_ConfigResource_name: { args: [ptr], returns: cstring },
  rd_kafka_ConfigResource_error: { args: [ptr], returns: i32 },
  rd_kafka_ConfigResource_error_string: { args: [ptr], returns: cstring },
  rd_kafka_ConfigEntry_name: { args: [ptr], returns: cstring },
  rd_kafka_ConfigEntry_value: { args: [ptr], returns: ptr },
  rd_kafka_ConfigEntry_source: { args: [ptr], returns: i32 },
  rd_kafka_ConfigEntry_is_read_only: { args: [ptr], returns: i32 },
  rd_kafka_ConfigEntry_is_default: { args: [ptr], returns: i32 },
  rd_kafka_ConfigEntry_is_sensitive: { args: [ptr], returns: i32 },
  rd_kafka_DescribeConfigs: { args: [ptr, ptr, usize, ptr, ptr], returns: none },
  rd_kafka_event_DescribeConfigs_result: { args: [ptr], returns: ptr },
  rd_kafka_DescribeConfigs_result_resources: { args: [ptr, ptr], returns: ptr },
  rd_kafka_IncrementalAlterConfigs: { args: [ptr, ptr, usize, ptr, ptr], returns: none },
  rd_kafka_event_IncrementalAlterConfigs_result: { args: [ptr], returns: ptr },
  rd_kafka_IncrementalAlterConfigs_result_resources: { args: [ptr, ptr], returns: ptr },

  // Admin: offsets and records
  rd_kafka_ListOffsets: { args: [ptr, ptr, ptr, ptr], returns: none },
  rd_kafka_event_ListOffsets_result: { args: [ptr], returns: ptr },
  rd_kafka_ListOffsets_result_infos: { args: [ptr, ptr], returns: ptr },
  rd_kafka_ListOffsetsResultInfo_topic_partition: { args: [ptr], returns: ptr },
  rd_kafka_ListOffsetsResultInfo_timestamp: { args: [ptr], returns: i64_fast },
  rd_kafka_DeleteRecords_new: { args: [ptr], returns: ptr },
  rd_kafka_DeleteRecords_destroy: { args: [ptr], returns: none },
  rd_kafka_DeleteRecords: { args: [ptr, ptr, usize, ptr, ptr], returns: none },
  rd_kafka_event_DeleteRecords_result: { args: [ptr], returns: ptr },
  rd_kafka_DeleteRecords_result_offsets: { args: [ptr], returns: ptr },

  // Admin: consumer groups
  rd_kafka_ListConsumerGroups: { args: [ptr, ptr, ptr], returns: none },
  rd_kafka_event_ListConsumerGroups_result: { args: [ptr], returns: ptr },
  rd_kafka_ListConsumerGroups_result_valid: { args: [ptr, ptr], returns: ptr },
  rd_kafka_ListConsumerGroups_result_errors: { args: [ptr, ptr], returns: ptr },
  rd_kafka_ConsumerGroupListing_group_id: { args: [ptr], returns: cstring },
  rd_kafka_ConsumerGroupListing_is_simple_consumer_group: { args: [ptr], returns: i32 },
  rd_kafka_ConsumerGroupListing_state: { args: [ptr], returns: i32 },
  rd_kafka_ConsumerGroupListing_type: { args: [ptr], returns: i32 },
  rd_kafka_DescribeConsumerGroups: { args: [ptr, ptr, usize, ptr, ptr], returns: none },
  rd_kafka_event_DescribeConsumerGroups_result: { args: [ptr], returns: ptr },
  rd_kafka_DescribeConsumerGroups_result_groups: { args: [ptr, ptr], returns: ptr },
  rd_kafka_ConsumerGroupDescription_group_id: { args: [ptr], returns: cstring },
  rd_kafka_ConsumerGroupDescription_error: { args: [ptr], returns: ptr },
  rd_kafka_ConsumerGroupDescription_is_simple_consumer_group: { args: [ptr], returns: i32 },
  rd_kafka_ConsumerGroupDescription_partition_assignor: { args: [ptr], returns: ptr },
  rd_kafka_ConsumerGroupDescription_state: { args: [ptr], returns: i32 },
  rd_kafka_ConsumerGroupDescription_type: { args: [ptr], returns: i32 },
  rd_kafka_ConsumerGroupDescription_coordinator: { args: [ptr], returns: ptr },
  rd_kafka_ConsumerGroupDescription_member_count: { args: [ptr], returns: usize },
  rd_kafka_ConsumerGroupDescription_member: { args: [ptr, usize], returns: ptr },
  rd_kafka_MemberDescription_client_id: { args: [ptr], returns: cstring },
  rd_kafka_MemberDescription_group_instance_id: { args: [ptr], returns: ptr },
  rd_kafka_MemberDescription_consumer_id: { args: [ptr], returns: cstring },
  rd_kafka_MemberDescription_host: { args: [ptr], returns: cstring },
  rd_kafka_MemberDescription_assignment: { args: [ptr], returns: ptr },
  rd_kafka_MemberAssignment_partitions: { args: [ptr], returns: ptr },
  rd_kafka_consumer_group_state_name: { args: [i32], returns: cstring },
  rd_kafka_consumer_group_type_name: { args: [i32], returns: cstring },
  rd_kafka_ListConsumerGroupOffsets_new: { args: [ptr, ptr], returns: ptr },
  rd_kafka_ListConsumerGroupOffsets_destroy: { args: [ptr], returns: none },
  rd_kafka_ListConsumerGroupOffsets: { args: [ptr, ptr, usize, ptr, ptr], returns: none },
  rd_kafka_event_ListConsumerGroupOffsets_result: { args: [ptr], returns: ptr },
  rd_kafka_ListConsumerGroupOffsets_result_groups: { args: [ptr, ptr], returns: ptr },
  rd_kafka_AlterConsumerGroupOffsets_new: { args: [ptr, ptr], returns: ptr },
  rd_kafka_AlterConsumerGroupOffsets_destroy: { args: [ptr], returns: none },
  rd_kafka_AlterConsumerGroupOffsets: { args: [ptr, ptr, usize, ptr, ptr], returns: none },
  rd_kafka_event_AlterConsumerGroupOffsets_result: { args: [ptr], returns: ptr },
  rd_kafka_AlterConsumerGroupOffsets_result_groups: { args: [ptr, ptr], returns: ptr },
  rd_kafka_DeleteConsumerGroupOffsets_new: { args: [ptr, ptr], returns: ptr },
  rd_kafka_DeleteConsumerGroupOffsets_destroy: { args: [ptr], returns: none },
  rd_kafka_DeleteConsumerGroupOffsets: { args: [ptr, ptr, usize, ptr, ptr], returns: none },
  rd_kafka_event_DeleteConsumerGroupOffsets_result: { args: [ptr], returns: ptr },
  rd_kafka_DeleteConsumerGroupOffsets_result_groups: { args: [ptr, ptr], returns: ptr },
} as const;

function libraryPath(): string {
  return process.env.KLINK_LIBRDKAFKA || embeddedPath;
}

/** JS-side types of the symbols: pointers are plain numbers (null for NULL) or TypedArrays. */
type ArgType<T> = T extends "ptr" ? number | NodeJS.TypedArray | ArrayBufferLike | null : T extends "i64" ? number | bigint : number;
type ReturnType_<T> = T extends "cstring" ? CString : T extends "void" ? void : T extends "ptr" ? number | null : number;
type Fn<S> = S extends { args: infer A extends readonly unknown[]; returns: infer R }
  ? (...args: { [K in keyof A]: ArgType<A[K]> }) => ReturnType_<R>
  : never;
export type Symbols = { [K in keyof typeof symbols]: Fn<(typeof symbols)[K]> };

let loaded: Symbols | undefined;

/** The librdkafka symbols, loaded on first use (so `klink --help` never needs the library). */
export function rdkafka() {
  if (!loaded) {
    const path = libraryPath();
    try {
      loaded = dlopen(path, symbols).symbols as unknown as Symbols;
    } catch (err) {
      throw new Error(
        `cannot load librdkafka from ${path}: ${(err as Error).message}\n` +
          "Install the runtime libraries it needs (Debian: libssl3 libsasl2-2 libzstd1 liblz4-1 zlib1g), " +
          "or rebuild with 'npm run setup'.",
      );
    }
  }
  return loaded;
}

export function librdkafkaVersion(): string {
  return String(rdkafka().rd_kafka_version_str());
}

/** Reads a NUL-terminated C string at `address` (0 gives null). */
export function cstr(address: number | null): string | null {
  return address ? new CString(address as never).toString() : null;
}

/** A NUL-terminated copy of `s` for a `const char*` argument. Keep it reachable during the call. */
export function cbuf(s: string): Buffer {
  return Buffer.from(s + "\0", "utf8");
}

