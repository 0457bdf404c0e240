/**
 * The names of librdkafka's configuration properties, asked from the loaded librdkafka itself
 * (rd_kafka_conf_dump of a new global and topic configuration: every property but aliases), so
 * the list is always the one of the librdkafka klink runs with.
 */
import { read } from "bun:ffi";
import { rdkafka, cstr } from "./library.ts";

let names: string[] | null = null;

export function librdkafkaPropertyNames(): string[] {
  if (names) return names;
  const lib = rdkafka();
  const dumpNames = (dump: (cnt: BigUint64Array) => number | null): string[] => {
    const cnt = new BigUint64Array(1);
    const arr = dump(cnt);
    if (!arr) return [];
    const n = Number(cnt[0]);
    const out: string[] = [];
    try {
      for (let i = 0; i < n; i += 2) out.push(cstr(read.ptr(arr as never, i * 8))!); // key, value, key, value, ...
    } finally {
      lib.rd_kafka_conf_dump_free(arr, n);
    }
    return out;
  };
  const conf = lib.rd_kafka_conf_new()!;
  const topicConf = lib.rd_kafka_topic_conf_new()!;
  try {
    names = [...new Set([...dumpNames((c) => lib.rd_kafka_conf_dump(conf, c)), ...dumpNames((c) => lib.rd_kafka_topic_conf_dump(topicConf, c))])];
  } finally {
    lib.rd_kafka_conf_destroy(conf);
    lib.rd_kafka_topic_conf_destroy(topicConf);
  }
  return names;
}
