/** The typed librdkafka binding klink is built on. Ownership: per C symbol in library.ts, per wrapper at the top of each module. */
export { librdkafkaVersion } from "./library.ts";
export { KafkaError, ErrorCode, LEADER_MOVING } from "./errors.ts";
export { type ClientConfig } from "./config.ts";
export { Producer, type ProducerRecord, type DeliveryReport, type ProducerOptions } from "./producer.ts";
export { Consumer } from "./consumer.ts";
export { ConsumedMessage, TimestampType, type Header } from "./message.ts";
export { Admin, AlterConfigOp, OffsetSpec, type NewTopic, type ConfigEntry, type TopicDescription, type GroupDescription, type ListOffsetsResult } from "./admin.ts";
export { Offset, type TopicPartition, type TopicPartitionOffset } from "./partitions.ts";
export { aclKey, aclText, type AclBinding, type AclFilter } from "./acls.ts";
