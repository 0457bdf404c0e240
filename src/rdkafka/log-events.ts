/**
 * librdkafka's own log lines (connection failures, retries, configuration warnings) through klink's
 * logger instead of printed raw to stderr by librdkafka. With `log.queue=true` librdkafka queues
 * them; rd_kafka_set_log_queue sends each client's lines to a queue of its own, served from the
 * poller on the JS thread (never a C callback on a librdkafka thread). Not the main queue: a
 * consumer's main queue is read by consume_batch_queue, which would print log events itself.
 *
 * Ownership: a LogQueue owns its queue handle and frees it in `close()`, before rd_kafka_destroy.
 */
import { rdkafka, cstr } from "./library.ts";
import { checkErr } from "./errors.ts";
import { addTask } from "./poller.ts";
import { log, type Level } from "../log.ts";

/** What every client's configuration needs for it. */
export const LOG_QUEUE_CONFIG = { "log.queue": "true" } as const;

const LOG_EVENT = 0x4;

/**
 * Lines that only say librdkafka retries what a cluster cannot answer yet while it starts (a fresh
 * target's transaction coordinator loading): shown with -v only.
 */
const HARMLESS: Array<{ facility: string; text: RegExp }> = [
  { facility: "GETPID", text: /Coordinator load in progress|Coordinator not available|Not coordinator/ },
];

/** syslog levels (0 emergency … 7 debug) as klink's. */
export function levelOf(syslog: number, facility: string, text: string): Level {
  if (HARMLESS.some((h) => h.facility === facility && h.text.test(text))) return "debug";
  return syslog <= 3 ? "error" : syslog === 4 ? "warn" : syslog <= 6 ? "info" : "debug";
}

// out-parameters of rd_kafka_event_log (only read on the JS thread, right after the call)
const facilityOut = new BigUint64Array(1);
const textOut = new BigUint64Array(1);
const levelOut = new Int32Array(1);

export class LogQueue {
  private readonly queue: number;
  private readonly removeTask: () => void;

  /** `client`: the handle's name (rd_kafka_name), kept in every line. */
  constructor(handle: number, private readonly client: string) {
    const lib = rdkafka();
    this.queue = lib.rd_kafka_queue_new(handle)!;
    checkErr(lib.rd_kafka_set_log_queue(handle, this.queue), "set_log_queue");
    this.removeTask = addTask(() => this.serve());
  }

  /** Logs the lines queued so far; returns how many. */
  serve(): number {
    const lib = rdkafka();
    let n = 0;
    for (; n < 256; n++) {
      const ev = lib.rd_kafka_queue_poll(this.queue, 0);
      if (!ev) break;
      try {
        if (lib.rd_kafka_event_type(ev) !== LOG_EVENT || lib.rd_kafka_event_log(ev, facilityOut, textOut, levelOut) !== 0) continue;
        const facility = cstr(Number(facilityOut[0])) ?? "";
        const text = cstr(Number(textOut[0])) ?? "";
        const level = levelOf(levelOut[0]!, facility, text);
        log.line(level, `librdkafka ${this.client} ${facility}: ${text}`, { source: "librdkafka", client: this.client, facility, syslogLevel: levelOut[0] });
      } finally {
        lib.rd_kafka_event_destroy(ev);
      }
    }
    return n;
  }

  /** Logs what is left and frees the queue (before the handle is destroyed). */
  close(): void {
    this.serve();
    this.removeTask();
    rdkafka().rd_kafka_queue_destroy(this.queue);
  }
}
