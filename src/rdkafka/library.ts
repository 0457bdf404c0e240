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
import { libraryLoadError } from "./runtime-libraries.ts";

const ptr = "ptr", i32 = "i32", i64 = "i64", cstring = "cstring", none = "void", u16 = "u16";
// 64-bit values returned as JS numbers (offsets, sizes, counts never exceed 2^53).
const i64_fast = FFIType.i64_fast, usize = FFIType.u64_fast;

/*
 * Ownership, as rdkafka.h states it, noted after each symbol that takes or returns a pointer:
 * - "caller frees: X"  the returned object (or out-parameter) belongs to the caller, who frees
 *                      it with X, and when the note says so, before something else;
 * - "borrowed (of Y)"  valid as long as Y lives; never freed by klink;
 * - "takes P"          the call takes ownership of argument P (klink must not free it after);
 * - "copies"           the call copies its arguments: the caller may free them when it returns;
 * - "reads"            pointer arguments are only read during the call (keep them reachable).
 * `rd_kafka_error_t*` returns are NULL on success, else an error the caller frees with
 * rd_kafka_error_destroy (errors.ts fromErrorObject/checkErrorObject do it).
 */
const symbols = {
  // Version and errors
  rd_kafka_version_str: { args: [], returns: cstring }, // static string
  rd_kafka_err2str: { args: [i32], returns: cstring }, // static string
  rd_kafka_err2name: { args: [i32], returns: cstring }, // static string
  rd_kafka_error_code: { args: [ptr], returns: i32 }, // reads
  rd_kafka_error_string: { args: [ptr], returns: cstring }, // borrowed of the error
  rd_kafka_error_is_fatal: { args: [ptr], returns: i32 }, // reads
  rd_kafka_error_is_retriable: { args: [ptr], returns: i32 }, // reads
  rd_kafka_error_txn_requires_abort: { args: [ptr], returns: i32 }, // reads
  rd_kafka_error_destroy: { args: [ptr], returns: none }, // frees an error the caller owns (never a borrowed one)
  rd_kafka_fatal_error: { args: [ptr, ptr, usize], returns: i32 }, // writes the caller's errstr buffer

  // Configuration and handles
  rd_kafka_conf_new: { args: [], returns: ptr }, // caller frees: conf_destroy, unless rd_kafka_new took it
  rd_kafka_conf_destroy: { args: [ptr], returns: none }, // frees a conf not taken by rd_kafka_new
  rd_kafka_conf_set: { args: [ptr, ptr, ptr, ptr, usize], returns: i32 }, // copies name and value; writes errstr
  rd_kafka_conf_set_events: { args: [ptr, i32], returns: none }, // reads
  rd_kafka_conf_dump: { args: [ptr, ptr], returns: ptr }, // writes *cntp; caller frees the array: conf_dump_free
  rd_kafka_conf_dump_free: { args: [ptr, usize], returns: none }, // frees a conf_dump / topic_conf_dump array
  rd_kafka_topic_conf_new: { args: [], returns: ptr }, // caller frees: topic_conf_destroy
  rd_kafka_topic_conf_destroy: { args: [ptr], returns: none }, // frees a topic conf
  rd_kafka_topic_conf_dump: { args: [ptr, ptr], returns: ptr }, // writes *cntp; caller frees the array: conf_dump_free
  rd_kafka_new: { args: [i32, ptr, ptr, usize], returns: ptr }, // takes conf on success only; caller frees: rd_kafka_destroy
  rd_kafka_destroy: { args: [ptr], returns: none }, // frees the handle; its queues, topics and messages must be released first or it waits
  rd_kafka_name: { args: [ptr], returns: cstring }, // borrowed of the handle
  rd_kafka_outq_len: { args: [ptr], returns: i32 }, // reads
  rd_kafka_purge: { args: [ptr, i32], returns: i32 }, // reads
  rd_kafka_topic_new: { args: [ptr, ptr, ptr], returns: ptr }, // copies name; caller frees: topic_destroy, before rd_kafka_destroy
  rd_kafka_topic_destroy: { args: [ptr], returns: none }, // releases the caller's reference
  rd_kafka_topic_name: { args: [ptr], returns: cstring }, // borrowed of the topic handle
  rd_kafka_metadata: { args: [ptr, i32, ptr, ptr, i32], returns: i32 }, // caller frees *out: metadata_destroy
  rd_kafka_metadata_destroy: { args: [ptr], returns: none }, // frees metadata
  rd_kafka_query_watermark_offsets: { args: [ptr, ptr, i32, ptr, ptr, i32], returns: i32 }, // reads topic; writes the caller's low/high
  rd_kafka_get_watermark_offsets: { args: [ptr, ptr, i32, ptr, ptr], returns: i32 }, // reads topic; writes the caller's low/high (no I/O)
  rd_kafka_oauthbearer_set_token: { args: [ptr, ptr, i64, ptr, ptr, usize, ptr, usize], returns: i32 }, // copies token, principal; writes errstr
  rd_kafka_oauthbearer_set_token_failure: { args: [ptr, ptr], returns: i32 }, // copies the reason

  // Queues and events
  rd_kafka_queue_new: { args: [ptr], returns: ptr }, // caller frees: queue_destroy, before rd_kafka_destroy
  rd_kafka_queue_destroy: { args: [ptr], returns: none }, // releases the caller's reference
  rd_kafka_queue_get_main: { args: [ptr], returns: ptr }, // a new reference; caller frees: queue_destroy, before rd_kafka_destroy
  rd_kafka_queue_get_consumer: { args: [ptr], returns: ptr }, // a new reference; caller frees: queue_destroy, before consumer_close
  rd_kafka_queue_length: { args: [ptr], returns: usize }, // reads
  rd_kafka_queue_poll: { args: [ptr, i32], returns: ptr }, // caller frees: event_destroy
  rd_kafka_event_type: { args: [ptr], returns: i32 }, // reads
  rd_kafka_event_destroy: { args: [ptr], returns: none }, // frees the event and everything borrowed of it
  rd_kafka_event_message_array: { args: [ptr, ptr, usize], returns: usize }, // fills the caller's array with messages borrowed of the event (never message_destroy them)
  rd_kafka_event_error: { args: [ptr], returns: i32 }, // reads
  rd_kafka_event_error_string: { args: [ptr], returns: cstring }, // borrowed of the event
  rd_kafka_event_error_is_fatal: { args: [ptr], returns: i32 }, // reads
  rd_kafka_event_config_string: { args: [ptr], returns: cstring }, // borrowed of the event
  rd_kafka_event_log: { args: [ptr, ptr, ptr, ptr], returns: i32 }, // writes facility and text (borrowed of the event) and the level to the caller's out-parameters
  rd_kafka_set_log_queue: { args: [ptr, ptr], returns: i32 }, // librdkafka keeps its own reference to the queue (needs log.queue=true)

  // Producing
  // produceva: copies the key; with MSGFLAGS 0 references the value, which must stay valid until its
  // delivery report; takes the HEADERS list on success only; returns an error the caller frees.
  rd_kafka_produceva: { args: [ptr, ptr, usize], returns: ptr },
  rd_kafka_init_transactions: { args: [ptr, i32], returns: ptr }, // caller frees the returned error
  rd_kafka_begin_transaction: { args: [ptr], returns: ptr }, // caller frees the returned error
  rd_kafka_commit_transaction: { args: [ptr, i32], returns: ptr }, // caller frees the returned error
  rd_kafka_abort_transaction: { args: [ptr, i32], returns: ptr }, // caller frees the returned error

  // Messages and headers
  rd_kafka_message_destroy: { args: [ptr], returns: none }, // frees a consumed message (not a delivery report's: its event owns it)
  rd_kafka_message_timestamp: { args: [ptr, ptr], returns: i64_fast }, // reads; writes the caller's type
  rd_kafka_message_leader_epoch: { args: [ptr], returns: i32 }, // reads
  rd_kafka_message_headers: { args: [ptr, ptr], returns: i32 }, // *out borrowed of the message (until detached)
  rd_kafka_message_detach_headers: { args: [ptr, ptr], returns: i32 }, // caller frees *out: headers_destroy, or hands it to produceva
  rd_kafka_message_set_headers: { args: [ptr, ptr], returns: none }, // takes the headers
  rd_kafka_headers_new: { args: [usize], returns: ptr }, // caller frees: headers_destroy, or hands it to produceva
  rd_kafka_headers_destroy: { args: [ptr], returns: none }, // frees headers the caller owns
  rd_kafka_header_add: { args: [ptr, ptr, i64, ptr, i64], returns: i32 }, // copies name and value
  rd_kafka_header_get_all: { args: [ptr, usize, ptr, ptr, ptr], returns: i32 }, // *name, *value borrowed of the headers

  // Consuming
  rd_kafka_poll_set_consumer: { args: [ptr], returns: i32 }, // reads
  // consume_batch_queue: fills the caller's array with messages the caller owns: each is freed with
  // message_destroy, all before consumer_close (which waits for them).
  rd_kafka_consume_batch_queue: { args: [ptr, i32, ptr, usize], returns: i64_fast },
  rd_kafka_assign: { args: [ptr, ptr], returns: i32 }, // copies the list
  rd_kafka_incremental_assign: { args: [ptr, ptr], returns: ptr }, // copies the list; caller frees the returned error
  rd_kafka_incremental_unassign: { args: [ptr, ptr], returns: ptr }, // copies the list; caller frees the returned error
  rd_kafka_assignment: { args: [ptr, ptr], returns: i32 }, // caller frees *out: topic_partition_list_destroy
  rd_kafka_subscribe: { args: [ptr, ptr], returns: i32 }, // copies the list
  rd_kafka_unsubscribe: { args: [ptr], returns: i32 }, // reads
  rd_kafka_seek_partitions: { args: [ptr, ptr, i32], returns: ptr }, // writes err into the caller's list; caller frees the returned error
  rd_kafka_pause_partitions: { args: [ptr, ptr], returns: i32 }, // writes err into the caller's list
  rd_kafka_resume_partitions: { args: [ptr, ptr], returns: i32 }, // writes err into the caller's list
  rd_kafka_position: { args: [ptr, ptr], returns: i32 }, // writes offsets into the caller's list
  rd_kafka_commit: { args: [ptr, ptr, i32], returns: i32 }, // reads the list; writes err into it
  rd_kafka_committed: { args: [ptr, ptr, i32], returns: i32 }, // writes offsets into the caller's list
  rd_kafka_consumer_close: { args: [ptr], returns: i32 }, // the consumer queue must be released first; rd_kafka_destroy still follows

  // Topic partition lists
  rd_kafka_topic_partition_list_new: { args: [i32], returns: ptr }, // caller frees: topic_partition_list_destroy
  rd_kafka_topic_partition_list_add: { args: [ptr, ptr, i32], returns: ptr }, // copies the topic; the element is borrowed of the list
  rd_kafka_topic_partition_list_destroy: { args: [ptr], returns: none }, // frees a list the caller owns (never a borrowed one)

  // Admin: options and generic results. Request calls (CreateTopics, ...) copy their request
  // objects and options: the caller frees those once the call returned. Result accessors return
  // memory borrowed of the result event (freed by event_destroy), unless noted.
  rd_kafka_AdminOptions_new: { args: [ptr, i32], returns: ptr }, // caller frees: AdminOptions_destroy
  rd_kafka_AdminOptions_destroy: { args: [ptr], returns: none }, // frees options
  rd_kafka_AdminOptions_set_request_timeout: { args: [ptr, i32, ptr, usize], returns: i32 }, // writes errstr
  rd_kafka_AdminOptions_set_operation_timeout: { args: [ptr, i32, ptr, usize], returns: i32 }, // writes errstr
  rd_kafka_AdminOptions_set_isolation_level: { args: [ptr, i32], returns: ptr }, // caller frees the returned error
  rd_kafka_AdminOptions_set_validate_only: { args: [ptr, i32, ptr, usize], returns: i32 }, // writes errstr
  rd_kafka_topic_result_error: { args: [ptr], returns: i32 }, // reads
  rd_kafka_topic_result_error_string: { args: [ptr], returns: cstring }, // borrowed of the event
  rd_kafka_topic_result_name: { args: [ptr], returns: cstring }, // borrowed of the event
  rd_kafka_group_result_error: { args: [ptr], returns: ptr }, // borrowed of the group result: never error_destroy it
  rd_kafka_group_result_name: { args: [ptr], returns: cstring }, // borrowed of the group result
  rd_kafka_group_result_partitions: { args: [ptr], returns: ptr }, // borrowed of the group result: never list_destroy it
  rd_kafka_Node_id: { args: [ptr], returns: i32 }, // reads
  rd_kafka_Node_host: { args: [ptr], returns: cstring }, // borrowed of the node
  rd_kafka_Node_port: { args: [ptr], returns: u16 }, // reads
  rd_kafka_Node_rack: { args: [ptr], returns: cstring }, // borrowed of the node

  // Admin: topics and partitions
  rd_kafka_NewTopic_new: { args: [ptr, i32, i32, ptr, usize], returns: ptr }, // copies the name; caller frees: NewTopic_destroy (NULL + errstr on bad arguments)
  rd_kafka_NewTopic_destroy: { args: [ptr], returns: none }, // frees a NewTopic
  rd_kafka_NewTopic_set_config: { args: [ptr, ptr, ptr], returns: i32 }, // copies name and value
  rd_kafka_CreateTopics: { args: [ptr, ptr, usize, ptr, ptr], returns: none }, // copies the NewTopics and options; result event on the queue
  rd_kafka_event_CreateTopics_result: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_CreateTopics_result_topics: { args: [ptr, ptr], returns: ptr }, // array borrowed of the event
  rd_kafka_DeleteTopic_new: { args: [ptr], returns: ptr }, // copies the name; caller frees: DeleteTopic_destroy
  rd_kafka_DeleteTopic_destroy: { args: [ptr], returns: none }, // frees a DeleteTopic
  rd_kafka_DeleteTopics: { args: [ptr, ptr, usize, ptr, ptr], returns: none }, // copies the DeleteTopics and options
  rd_kafka_event_DeleteTopics_result: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_DeleteTopics_result_topics: { args: [ptr, ptr], returns: ptr }, // array borrowed of the event
  rd_kafka_NewPartitions_new: { args: [ptr, usize, ptr, usize], returns: ptr }, // copies the name; caller frees: NewPartitions_destroy (NULL + errstr on bad arguments)
  rd_kafka_NewPartitions_destroy: { args: [ptr], returns: none }, // frees a NewPartitions
  rd_kafka_CreatePartitions: { args: [ptr, ptr, usize, ptr, ptr], returns: none }, // copies the NewPartitions and options
  rd_kafka_event_CreatePartitions_result: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_CreatePartitions_result_topics: { args: [ptr, ptr], returns: ptr }, // array borrowed of the event
  rd_kafka_TopicCollection_of_topic_names: { args: [ptr, usize], returns: ptr }, // copies the names; caller frees: TopicCollection_destroy
  rd_kafka_TopicCollection_destroy: { args: [ptr], returns: none }, // frees a TopicCollection
  rd_kafka_DescribeTopics: { args: [ptr, ptr, ptr, ptr], returns: none }, // copies the collection and options
  rd_kafka_event_DescribeTopics_result: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_DescribeTopics_result_topics: { args: [ptr, ptr], returns: ptr }, // array borrowed of the event
  rd_kafka_TopicDescription_name: { args: [ptr], returns: cstring }, // borrowed of the event
  rd_kafka_TopicDescription_error: { args: [ptr], returns: ptr }, // borrowed of the event: never error_destroy it
  rd_kafka_TopicDescription_is_internal: { args: [ptr], returns: i32 }, // reads
  rd_kafka_TopicDescription_partitions: { args: [ptr, ptr], returns: ptr }, // array borrowed of the event
  rd_kafka_TopicPartitionInfo_partition: { args: [ptr], returns: i32 }, // reads
  rd_kafka_TopicPartitionInfo_leader: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_TopicPartitionInfo_isr: { args: [ptr, ptr], returns: ptr }, // array borrowed of the event
  rd_kafka_TopicPartitionInfo_replicas: { args: [ptr, ptr], returns: ptr }, // array borrowed of the event
  rd_kafka_DescribeCluster: { args: [ptr, ptr, ptr], returns: none }, // copies the options
  rd_kafka_event_DescribeCluster_result: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_DescribeCluster_result_nodes: { args: [ptr, ptr], returns: ptr }, // array borrowed of the event
  rd_kafka_DescribeCluster_result_controller: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_DescribeCluster_result_cluster_id: { args: [ptr], returns: cstring }, // borrowed of the event

  // Admin: configs
  rd_kafka_ConfigResource_new: { args: [i32, ptr], returns: ptr }, // copies the name; caller frees: ConfigResource_destroy
  rd_kafka_ConfigResource_destroy: { args: [ptr], returns: none }, // frees a ConfigResource the caller made (never a result's)
  rd_kafka_ConfigResource_add_incremental_config: { args: [ptr, ptr, i32, ptr], returns: ptr }, // copies name and value; caller frees the returned error
  rd_kafka_ConfigResource_configs: { args: [ptr, ptr], returns: ptr }, // array borrowed of the resource
  rd_kafka_ConfigResource_name: { args: [ptr], returns: cstring }, // borrowed of the resource
  rd_kafka_ConfigResource_error: { args: [ptr], returns: i32 }, // reads
  rd_kafka_ConfigResource_error_string: { args: [ptr], returns: cstring }, // borrowed of the resource
  rd_kafka_ConfigEntry_name: { args: [ptr], returns: cstring }, // borrowed of the entry
  rd_kafka_ConfigEntry_value: { args: [ptr], returns: ptr }, // borrowed of the entry; NULL when unset or sensitive
  rd_kafka_ConfigEntry_source: { args: [ptr], returns: i32 }, // reads
  rd_kafka_ConfigEntry_is_read_only: { args: [ptr], returns: i32 }, // reads
  rd_kafka_ConfigEntry_is_default: { args: [ptr], returns: i32 }, // reads
  rd_kafka_ConfigEntry_is_sensitive: { args: [ptr], returns: i32 }, // reads
  rd_kafka_DescribeConfigs: { args: [ptr, ptr, usize, ptr, ptr], returns: none }, // copies the resources and options
  rd_kafka_event_DescribeConfigs_result: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_DescribeConfigs_result_resources: { args: [ptr, ptr], returns: ptr }, // array borrowed of the event
  rd_kafka_IncrementalAlterConfigs: { args: [ptr, ptr, usize, ptr, ptr], returns: none }, // copies the resources and options
  rd_kafka_event_IncrementalAlterConfigs_result: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_IncrementalAlterConfigs_result_resources: { args: [ptr, ptr], returns: ptr }, // array borrowed of the event

  // Admin: offsets and records
  rd_kafka_ListOffsets: { args: [ptr, ptr, ptr, ptr], returns: none }, // copies the list and options
  rd_kafka_event_ListOffsets_result: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_ListOffsets_result_infos: { args: [ptr, ptr], returns: ptr }, // array borrowed of the event
  rd_kafka_ListOffsetsResultInfo_topic_partition: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_ListOffsetsResultInfo_timestamp: { args: [ptr], returns: i64_fast }, // reads
  rd_kafka_DeleteRecords_new: { args: [ptr], returns: ptr }, // copies the list; caller frees: DeleteRecords_destroy
  rd_kafka_DeleteRecords_destroy: { args: [ptr], returns: none }, // frees a DeleteRecords
  rd_kafka_DeleteRecords: { args: [ptr, ptr, usize, ptr, ptr], returns: none }, // copies the request and options
  rd_kafka_event_DeleteRecords_result: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_DeleteRecords_result_offsets: { args: [ptr], returns: ptr }, // list borrowed of the event: never list_destroy it

  // Admin: consumer groups
  rd_kafka_ListConsumerGroups: { args: [ptr, ptr, ptr], returns: none }, // copies the options
  rd_kafka_event_ListConsumerGroups_result: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_ListConsumerGroups_result_valid: { args: [ptr, ptr], returns: ptr }, // array borrowed of the event
  rd_kafka_ListConsumerGroups_result_errors: { args: [ptr, ptr], returns: ptr }, // errors borrowed of the event: never error_destroy them
  rd_kafka_ConsumerGroupListing_group_id: { args: [ptr], returns: cstring }, // borrowed of the event
  rd_kafka_ConsumerGroupListing_is_simple_consumer_group: { args: [ptr], returns: i32 }, // reads
  rd_kafka_ConsumerGroupListing_state: { args: [ptr], returns: i32 }, // reads
  rd_kafka_ConsumerGroupListing_type: { args: [ptr], returns: i32 }, // reads
  rd_kafka_DescribeConsumerGroups: { args: [ptr, ptr, usize, ptr, ptr], returns: none }, // copies the group ids and options
  rd_kafka_event_DescribeConsumerGroups_result: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_DescribeConsumerGroups_result_groups: { args: [ptr, ptr], returns: ptr }, // array borrowed of the event
  rd_kafka_ConsumerGroupDescription_group_id: { args: [ptr], returns: cstring }, // borrowed of the event
  rd_kafka_ConsumerGroupDescription_error: { args: [ptr], returns: ptr }, // borrowed of the event: never error_destroy it
  rd_kafka_ConsumerGroupDescription_is_simple_consumer_group: { args: [ptr], returns: i32 }, // reads
  rd_kafka_ConsumerGroupDescription_partition_assignor: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_ConsumerGroupDescription_state: { args: [ptr], returns: i32 }, // reads
  rd_kafka_ConsumerGroupDescription_type: { args: [ptr], returns: i32 }, // reads
  rd_kafka_ConsumerGroupDescription_coordinator: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_ConsumerGroupDescription_member_count: { args: [ptr], returns: usize }, // reads
  rd_kafka_ConsumerGroupDescription_member: { args: [ptr, usize], returns: ptr }, // borrowed of the event
  rd_kafka_MemberDescription_client_id: { args: [ptr], returns: cstring }, // borrowed of the event
  rd_kafka_MemberDescription_group_instance_id: { args: [ptr], returns: ptr }, // borrowed of the event; NULL when none
  rd_kafka_MemberDescription_consumer_id: { args: [ptr], returns: cstring }, // borrowed of the event
  rd_kafka_MemberDescription_host: { args: [ptr], returns: cstring }, // borrowed of the event
  rd_kafka_MemberDescription_assignment: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_MemberAssignment_partitions: { args: [ptr], returns: ptr }, // list borrowed of the event: never list_destroy it
  rd_kafka_consumer_group_state_name: { args: [i32], returns: cstring }, // static string
  rd_kafka_consumer_group_type_name: { args: [i32], returns: cstring }, // static string
  rd_kafka_ListConsumerGroupOffsets_new: { args: [ptr, ptr], returns: ptr }, // copies group id and list; caller frees: ListConsumerGroupOffsets_destroy
  rd_kafka_ListConsumerGroupOffsets_destroy: { args: [ptr], returns: none }, // frees the request object
  rd_kafka_ListConsumerGroupOffsets: { args: [ptr, ptr, usize, ptr, ptr], returns: none }, // copies the request and options
  rd_kafka_event_ListConsumerGroupOffsets_result: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_ListConsumerGroupOffsets_result_groups: { args: [ptr, ptr], returns: ptr }, // array borrowed of the event
  rd_kafka_AlterConsumerGroupOffsets_new: { args: [ptr, ptr], returns: ptr }, // copies group id and list; caller frees: AlterConsumerGroupOffsets_destroy
  rd_kafka_AlterConsumerGroupOffsets_destroy: { args: [ptr], returns: none }, // frees the request object
  rd_kafka_AlterConsumerGroupOffsets: { args: [ptr, ptr, usize, ptr, ptr], returns: none }, // copies the request and options
  rd_kafka_event_AlterConsumerGroupOffsets_result: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_AlterConsumerGroupOffsets_result_groups: { args: [ptr, ptr], returns: ptr }, // array borrowed of the event
  rd_kafka_DeleteConsumerGroupOffsets_new: { args: [ptr, ptr], returns: ptr }, // copies group id and list; caller frees: DeleteConsumerGroupOffsets_destroy
  rd_kafka_DeleteConsumerGroupOffsets_destroy: { args: [ptr], returns: none }, // frees the request object
  rd_kafka_DeleteConsumerGroupOffsets: { args: [ptr, ptr, usize, ptr, ptr], returns: none }, // copies the request and options
  rd_kafka_event_DeleteConsumerGroupOffsets_result: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_DeleteConsumerGroupOffsets_result_groups: { args: [ptr, ptr], returns: ptr }, // array borrowed of the event

  // Admin: ACLs (acls.ts)
  rd_kafka_AdminOptions_set_include_authorized_operations: { args: [ptr, i32], returns: ptr }, // caller frees the returned error
  rd_kafka_TopicDescription_authorized_operations: { args: [ptr, ptr], returns: ptr }, // i32 array borrowed of the event (NULL: not told)
  rd_kafka_DescribeCluster_result_authorized_operations: { args: [ptr, ptr], returns: ptr }, // i32 array borrowed of the event (NULL: not told)
  rd_kafka_AclBinding_new: { args: [i32, ptr, i32, ptr, ptr, i32, i32, ptr, usize], returns: ptr }, // copies the strings; caller frees: AclBinding_destroy (NULL + errstr on bad arguments)
  rd_kafka_AclBindingFilter_new: { args: [i32, ptr, i32, ptr, ptr, i32, i32, ptr, usize], returns: ptr }, // as AclBinding_new; NULL strings match any
  rd_kafka_AclBinding_destroy: { args: [ptr], returns: none }, // frees a binding the caller made (never a result's)
  rd_kafka_AclBinding_restype: { args: [ptr], returns: i32 }, // reads
  rd_kafka_AclBinding_name: { args: [ptr], returns: cstring }, // borrowed of the binding
  rd_kafka_AclBinding_resource_pattern_type: { args: [ptr], returns: i32 }, // reads
  rd_kafka_AclBinding_principal: { args: [ptr], returns: cstring }, // borrowed of the binding
  rd_kafka_AclBinding_host: { args: [ptr], returns: cstring }, // borrowed of the binding
  rd_kafka_AclBinding_operation: { args: [ptr], returns: i32 }, // reads
  rd_kafka_AclBinding_permission_type: { args: [ptr], returns: i32 }, // reads
  rd_kafka_acl_result_error: { args: [ptr], returns: ptr }, // borrowed of the event: never error_destroy it
  rd_kafka_CreateAcls: { args: [ptr, ptr, usize, ptr, ptr], returns: none }, // copies the bindings and options
  rd_kafka_event_CreateAcls_result: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_CreateAcls_result_acls: { args: [ptr, ptr], returns: ptr }, // array borrowed of the event
  rd_kafka_DescribeAcls: { args: [ptr, ptr, ptr, ptr], returns: none }, // copies the filter and options
  rd_kafka_event_DescribeAcls_result: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_DescribeAcls_result_acls: { args: [ptr, ptr], returns: ptr }, // array of bindings borrowed of the event
  rd_kafka_DeleteAcls: { args: [ptr, ptr, usize, ptr, ptr], returns: none }, // copies the filters and options
  rd_kafka_event_DeleteAcls_result: { args: [ptr], returns: ptr }, // borrowed of the event
  rd_kafka_DeleteAcls_result_responses: { args: [ptr, ptr], returns: ptr }, // array borrowed of the event
  rd_kafka_DeleteAcls_result_response_error: { args: [ptr], returns: ptr }, // borrowed of the event: never error_destroy it
  rd_kafka_DeleteAcls_result_response_matching_acls: { args: [ptr, ptr], returns: ptr }, // array of bindings borrowed of the event
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
      throw libraryLoadError(path, err as Error);
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

