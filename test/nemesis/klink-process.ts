/**
 * One klink process (dist/klink) of a nemesis run: its output goes to a log file beside the
 * migration file, its pid is in the harness's registry (so a crashed run's leftovers are ended
 * by the next one), and it is stopped by its own handle, never by name.
 */
import type { Subprocess } from "bun";
import { closeSync, openSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { registerPid, unregisterPid } from "../harness/state.ts";

const KLINK = resolve(import.meta.dir, "../../dist/klink");
const all = new Set<KlinkProcess>();

// a test process that dies leaves no klink behind (SIGKILL works on a stopped process too)
process.on("exit", () => {
  for (const k of all) k.proc.kill("SIGKILL");
});

export class KlinkProcess {
  readonly proc: Subprocess;
  readonly logFile: string;
  readonly startedAt = Date.now();
  stopped = false;

  /** `label`: main, second, catch-up... (the log file is klink-<n>-<label>.log) */
  constructor(readonly file: string, readonly args: string[], readonly label: string, n: number) {
    this.logFile = join(dirname(file), `klink-${n}-${label}.log`);
    const fd = openSync(this.logFile, "a");
    try {
      this.proc = Bun.spawn([KLINK, ...args], { stdin: "ignore", stdout: fd, stderr: fd });
    } finally {
      closeSync(fd);
    }
    all.add(this);
    // the migration file's path is in klink's command line: the registry's marker
    registerPid({ pid: this.proc.pid, marker: file, label: `klink ${label}`, owner: process.pid });
    this.proc.exited.then(() => {
      all.delete(this);
      unregisterPid(this.proc.pid);
    });
  }

  get pid(): number {
    return this.proc.pid;
  }

  get exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  /** exit code, or the signal's name */
  get status(): string {
    return this.proc.exitCode !== null ? `exit code ${this.proc.exitCode}` : this.proc.signalCode ? `killed by ${this.proc.signalCode}` : "running";
  }

  output(): string {
    try {
      return readFileSync(this.logFile, "utf8");
    } catch {
      return "";
    }
  }

  /** klink's own last lines (librdkafka's log lines, `%3|...`, left out) */
  tail(lines = 20): string {
    return this.output().trimEnd().split("\n").filter((l) => !/^%\d\|/.test(l)).slice(-lines).join("\n");
  }

  signal(sig: NodeJS.Signals): void {
    if (!this.exited) this.proc.kill(sig);
  }

  /** `sig` (SIGTERM by default), SIGKILL after `graceMs`; true if it ended within the grace time. */
  async stop(sig: NodeJS.Signals = "SIGTERM", graceMs = 60_000): Promise<boolean> {
    this.stopped = true;
    if (this.exited) return true;
    this.proc.kill("SIGCONT"); // a stopped process would not act on SIGTERM
    this.proc.kill(sig);
    let inTime = true;
    const hard = setTimeout(() => {
      inTime = false;
      this.proc.kill("SIGKILL");
    }, graceMs);
    await this.proc.exited;
    clearTimeout(hard);
    return inTime;
  }

  /** Waits up to `ms` for the process to exit by itself; true if it did. */
  async waitExit(ms: number): Promise<boolean> {
    let timer: Timer | undefined;
    const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
    try {
      return await Promise.race([this.proc.exited.then(() => true as const), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Every klink process still running (for clean-up). */
export function runningKlinks(): KlinkProcess[] {
  return [...all];
}

/** klink's own lines of a log (librdkafka's left out). */
export const klinkLines = (out: string) => out.split("\n").filter((l) => l.trim() && !/^\S+Z (\w+ )?librdkafka /.test(l));

/** klink's refusal of a second instance (the status address or the state is another instance's). */
export const isRefusal = (line: string) => /one instance per link|is already running|in use by/.test(line);
