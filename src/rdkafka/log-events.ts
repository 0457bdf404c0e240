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

/**
 * Runs of one identical line (a consumer closed while its brokers were down prints "1/1 brokers are
 * down" once per queued error, hundreds at once): the first is logged, the rest counted, and the
 * count told in one line when the run ends: at another line, after REPEAT_WINDOW_MS, or at close.
 */
export class RepeatedLines {
  private last: string | null = null;
  private since = 0;
  private hidden = 0;

  constructor(private readonly tell: (line: string, hidden: number) => void, private readonly windowMs = REPEAT_WINDOW_MS) {}

  /** Whether to log `line` (false: it repeats the one before, and is counted). */
  show(line: string, now = Date.now()): boolean {
    if (line === this.last && now - this.since < this.windowMs) {
      this.hidden++;
      return false;
    }
    this.end();
    this.last = line;
    this.since = now;
    return true;
  }

  /** Ends the run: tells how many lines it hid, if any. */
  end(): void {
    if (this.hidden > 0) this.tell(this.last!, this.hidden);
    this.last = null;
    this.hidden = 0;
  }
}

const REPEAT_WINDOW_MS = 10_000;

export class LogQueue {
  private readonly queue: number;
  private readonly removeTask: () => void;
  private readonly repeats = new RepeatedLines((line, hidden) => {
    const [level, facility, syslogLevel] = line.split("\0") as [Level, string, string];
    log.line(level, `librdkafka ${this.client} ${facility}: the same line ${hidden} more time${hidden === 1 ? "" : "s"}`, { source: "librdkafka", client: this.client, facility, syslogLevel: Number(syslogLevel), repeated: hidden });
  });

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
        if (!this.repeats.show(`${level}\0${facility}\0${levelOut[0]}\0${text}`)) continue;
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
    this.repeats.end();
    this.removeTask();
    rdkafka().rd_kafka_queue_destroy(this.queue);
  }
}
