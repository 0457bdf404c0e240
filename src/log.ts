/**
 * klink's one logger: every line klink (and librdkafka, through rdkafka/log-events.ts) writes to
 * stderr while a command runs. Levels error, warn, info, debug; `-q` shows warnings and errors
 * only, `-v` adds debug. Text format: the ISO time and the line (the level after the time unless
 * info); json format: one object per line {time, level, msg, ...fields}. Every line is redacted
 * with the config's secrets once the config is loaded (`redactWith`).
 */

export type Level = "error" | "warn" | "info" | "debug";
export type LogFormat = "text" | "json";
export type Fields = Record<string, string | number | boolean | null | undefined>;

const RANK: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

class Logger {
  format: LogFormat = "text";
  private threshold: Level = "info";
  /** Text without the config's secrets (for what bypasses the log lines: the live progress block). */
  redact: (text: string) => string = (text) => text;
  /** Where finished lines go; the progress view on a terminal puts them above its live block. */
  private write: (line: string) => void = (line) => console.error(line);

  /** Back to text, info, nothing to redact (a new command in the same process). */
  reset(): void {
    this.format = "text";
    this.threshold = "info";
    this.redact = (text) => text;
  }

  configure(options: { format?: LogFormat; level?: Level }): void {
    if (options.format) this.format = options.format;
    if (options.level) this.threshold = options.level;
  }

  /** From now on no line shows any of these secrets (Secrets.redact of the loaded config). */
  redactWith(redact: (text: string) => string): void {
    this.redact = redact;
  }

  /** Replaces where lines go (null: stderr again). */
  setWriter(write: ((line: string) => void) | null): void {
    this.write = write ?? ((line) => console.error(line));
  }

  enabled(level: Level): boolean {
    return RANK[level] <= RANK[this.threshold];
  }

  error(msg: string, fields?: Fields): void {
    this.line("error", msg, fields);
  }

  warn(msg: string, fields?: Fields): void {
    this.line("warn", msg, fields);
  }

  info(msg: string, fields?: Fields): void {
    this.line("info", msg, fields);
  }

  debug(msg: string, fields?: Fields): void {
    this.line("debug", msg, fields);
  }

  line(level: Level, msg: string, fields: Fields = {}): void {
    if (!this.enabled(level)) return;
    const time = new Date().toISOString();
    if (this.format === "text") return this.write(this.redact(`${time} ${level === "info" ? "" : `${level.toUpperCase()} `}${msg}`));
    this.write(this.json({ time, level, msg, ...fields }));
  }

  /**
   * A command's own answer on stderr (its error, a config warning): as it is in text format, which
   * operators and scripts read; a JSON object in json format. Shown at any level.
   */
  report(level: "error" | "warn", text: string): void {
    if (this.format === "text") return this.write(this.redact(text));
    this.write(this.json({ time: new Date().toISOString(), level, msg: text }));
  }

  /** Values are redacted before they are serialized, so no escaping can hide a secret. */
  private json(entry: Fields): string {
    const out: Fields = {};
    for (const [k, v] of Object.entries(entry)) if (v !== undefined) out[k] = typeof v === "string" ? this.redact(v) : v;
    return JSON.stringify(out);
  }
}

export const log = new Logger();
