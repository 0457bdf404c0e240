/**
 * The part every librdkafka handle shares: creation from a config, the main event queue served by
 * the poller (errors, and delivery reports for producers), and destruction.
 *
 * Ownership: the Client owns its `rd_kafka_t*` and main-queue handle and frees both in
 * `destroyHandle()`. Nothing may use `handle` afterwards.
 */
import { rdkafka } from "./library.ts";
import { buildConf, EventType, type ClientConfig } from "./config.ts";
import { KafkaError } from "./errors.ts";
import { addTask } from "./poller.ts";
import { LogQueue, LOG_QUEUE_CONFIG } from "./log-events.ts";
import { log } from "../log.ts";

export const HandleType = { PRODUCER: 0, CONSUMER: 1 } as const;

export interface ClientOptions {
  /**
   * Called for errors librdkafka reports on the handle. Most are transient (a broker went away)
   * and librdkafka retries by itself; `error.fatal` means the handle is unusable.
   * Default: fatal errors are logged as errors, others at debug level (-v).
   */
  onError?: (error: KafkaError) => void;
  /** Called with an OAUTHBEARER token-refresh request (config string of sasl.oauthbearer.config). */
  onTokenRefresh?: (client: Client, oauthbearerConfig: string) => void;
}

const EVENT_BATCH = 1024;

export class Client {
  readonly handle: number;
  readonly name: string;
  protected readonly mainQueue: number;
  protected readonly options: ClientOptions;
  private removeTask: (() => void) | null = null;
  private readonly logQueue: LogQueue;
  private destroyed = false;
  /** Scratch array that receives message pointers of DR events. */
  protected readonly eventMessages = new BigUint64Array(EVENT_BATCH);

  constructor(type: number, config: ClientConfig, events: number, options: ClientOptions = {}) {
    const lib = rdkafka();
    const conf = buildConf({ ...config, ...LOG_QUEUE_CONFIG }, events | EventType.ERROR | (options.onTokenRefresh ? EventType.OAUTHBEARER_TOKEN_REFRESH : 0));
    const errstr = Buffer.alloc(512);
    const handle = lib.rd_kafka_new(type, conf, errstr, errstr.length);
    if (!handle) {
      lib.rd_kafka_conf_destroy(conf);
      throw new KafkaError(-186, `cannot create librdkafka client: ${errstr.toString("utf8", 0, errstr.indexOf(0))}`);
    }
    this.handle = handle;
    this.name = String(lib.rd_kafka_name(handle));
    this.mainQueue = lib.rd_kafka_queue_get_main(handle)!;
    this.options = options;
    this.logQueue = new LogQueue(handle, this.name);
  }

  /** Starts serving the main queue from the shared poller. */
  protected startPolling(): void {
    if (!this.removeTask) this.removeTask = addTask(() => this.poll());
  }

  protected stopPolling(): void {
    this.removeTask?.();
    this.removeTask = null;
  }

  /**
   * Serves pending events on the main queue; returns how many were handled. Waits up to `waitMs`
   * for the first one (0: never blocks), e.g. for delivery reports while the producer's queue is full.
   */
  poll(waitMs = 0): number {
    const lib = rdkafka();
    let handled = 0;
    for (let i = 0; i < 64; i++) {
      const ev = lib.rd_kafka_queue_poll(this.mainQueue, i === 0 ? waitMs : 0);
      if (!ev) break;
      try {
        handled += this.handleEvent(ev, lib.rd_kafka_event_type(ev));
      } finally {
        lib.rd_kafka_event_destroy(ev);
      }
    }
    return handled;
  }

  /** Handles one event from the main queue; subclasses add their own event types. */
  protected handleEvent(ev: number, type: number): number {
    const lib = rdkafka();
    if (type === EventType.ERROR) {
      const code = lib.rd_kafka_event_error(ev);
      const err = new KafkaError(code, `${this.name}: ${lib.rd_kafka_event_error_string(ev)}`, {
        fatal: lib.rd_kafka_event_error_is_fatal(ev) !== 0,
      });
      this.reportError(err);
      return 1;
    }
    if (type === EventType.OAUTHBEARER_TOKEN_REFRESH) {
      this.options.onTokenRefresh?.(this, String(lib.rd_kafka_event_config_string(ev) ?? ""));
      return 1;
    }
    return 0;
  }

  protected reportError(err: KafkaError): void {
    if (this.options.onError) this.options.onError(err);
    else log.line(err.fatal ? "error" : process.env.KLINK_DEBUG ? "info" : "debug", `librdkafka: ${err.message}`, { source: "librdkafka", client: this.name, code: err.codeName });
  }

  /** The handle's fatal error, if one was raised (idempotent/transactional producers). */
  fatalError(): KafkaError | null {
    const errstr = Buffer.alloc(512);
    const code = rdkafka().rd_kafka_fatal_error(this.handle, errstr, errstr.length);
    return code ? new KafkaError(code, `${this.name}: ${errstr.toString("utf8", 0, errstr.indexOf(0))}`, { fatal: true }) : null;
  }

  /** Answers an OAUTHBEARER token refresh request. */
  /** `expiresAtMs`: when the token expires, in ms since the epoch (librdkafka calls it the lifetime). */
  setOAuthBearerToken(token: string, expiresAtMs: number, principal: string): void {
    const lib = rdkafka();
    const errstr = Buffer.alloc(512);
    const res = lib.rd_kafka_oauthbearer_set_token(
      this.handle, Buffer.from(token + "\0"), BigInt(Math.floor(expiresAtMs)), Buffer.from(principal + "\0"), null, 0, errstr, errstr.length,
    );
    if (res !== 0) {
      const reason = errstr.toString("utf8", 0, errstr.indexOf(0));
      lib.rd_kafka_oauthbearer_set_token_failure(this.handle, Buffer.from(reason + "\0"));
      throw new KafkaError(res, `${this.name}: OAUTHBEARER token rejected: ${reason}`);
    }
  }

  /** Tells librdkafka the token could not be obtained; it retries later. */
  setOAuthBearerTokenFailure(reason: string): void {
    rdkafka().rd_kafka_oauthbearer_set_token_failure(this.handle, Buffer.from(reason + "\0"));
  }

  private readonly topicNames = new Map<number, string>();
  /** Topic name behind an `rd_kafka_topic_t*` of this client (cached: it lives as long as the client). */
  topicName(rkt: number): string {
    let name = this.topicNames.get(rkt);
    if (name === undefined) {
      name = String(rdkafka().rd_kafka_topic_name(rkt));
      this.topicNames.set(rkt, name);
    }
    return name;
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** Frees the handle. Callers must have drained delivery reports and destroyed held messages. */
  protected destroyHandle(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.stopPolling();
    const lib = rdkafka();
    lib.rd_kafka_queue_destroy(this.mainQueue);
    this.logQueue.close();
    lib.rd_kafka_destroy(this.handle);
  }
}

