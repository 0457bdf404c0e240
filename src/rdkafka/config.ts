/**
 * librdkafka configuration objects. `buildConf` returns an `rd_kafka_conf_t*` that the caller
 * owns until it is passed to rd_kafka_new (which takes it over on success only).
 */
import { rdkafka, cbuf } from "./library.ts";
import { KafkaError, ErrorCode } from "./errors.ts";

/** librdkafka properties by their own names, e.g. `{"bootstrap.servers": "127.0.0.1:9092"}`. */
export type ClientConfig = Record<string, string | number | boolean>;

/** Events klink consumes through queues instead of C callbacks. */
export const EventType = {
  DR: 0x1,
  FETCH: 0x2,
  LOG: 0x4,
  ERROR: 0x8,
  REBALANCE: 0x10,
  OFFSET_COMMIT: 0x20,
  STATS: 0x40,
  OAUTHBEARER_TOKEN_REFRESH: 0x100,
} as const;

const CONF_UNKNOWN = -2;

/** Keys whose values never appear in errors. */
export function isSecretKey(key: string): boolean {
  return /password|secret|(^|\.)key$|token|jaas/i.test(key) && !/location$/.test(key);
}

export function buildConf(config: ClientConfig, events = 0): number {
  const lib = rdkafka();
  const conf = lib.rd_kafka_conf_new()!;
  const errstr = Buffer.alloc(512);
  for (const [key, raw] of Object.entries(config)) {
    if (raw === undefined) continue;
    const value = String(raw);
    const res = lib.rd_kafka_conf_set(conf, cbuf(key), cbuf(value), errstr, errstr.length);
    if (res !== 0) {
      lib.rd_kafka_conf_destroy(conf);
      const reason = errstr.toString("utf8", 0, errstr.indexOf(0));
      const shown = isSecretKey(key) ? "<redacted>" : JSON.stringify(value);
      throw new KafkaError(
        ErrorCode.INVALID_ARG,
        res === CONF_UNKNOWN
          ? `librdkafka configuration: unknown property '${key}' (${reason})`
          : `librdkafka configuration: invalid value ${shown} for '${key}': ${reason}`,
      );
    }
  }
  if (events) lib.rd_kafka_conf_set_events(conf, events);
  return conf;
}
