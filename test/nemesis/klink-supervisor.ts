/**
 * The klink of one seed: the `klink run` that should be running (restarted after every fault
 * that ends it), any second instance, the final `--until-caught-up` run; and what their
 * behaviour breaks, judged from outside (exit codes, output): an instance that dies by itself,
 * a partition that stops, a second instance that is not refused, a klink that never catches up.
 */
import { isRefusal, KlinkProcess } from "./klink-process.ts";
import type { Violation } from "./violations.ts";

export class KlinkSupervisor {
  main: KlinkProcess | null = null;
  readonly processes: KlinkProcess[] = [];
  readonly violations: Violation[] = [];
  /** main instances whose end is explained (a fault of ours, or a fence by another instance under kafka storage) */
  private readonly excused = new Set<KlinkProcess>();

  constructor(readonly file: string, private readonly log: (line: string) => void) {}

  spawn(args: string[], label: string): KlinkProcess {
    const k = new KlinkProcess(this.file, args, label, this.processes.length + 1);
    this.processes.push(k);
    this.log(`klink ${label} started (pid ${k.pid}): klink ${args.join(" ")}`);
    return k;
  }

  startMain(): KlinkProcess {
    this.main = this.spawn(["run", this.file], "main");
    return this.main;
  }

  /** Excuse the main instance's end (e.g. fenced by a second instance with kafka storage). */
  excuse(k: KlinkProcess): void {
    this.excused.add(k);
  }

  /** If the main instance ended without being told to, that is a violation; start it again. */
  ensureRunning(): void {
    const k = this.main;
    if (!k || !k.exited || k.stopped) return;
    // klink refuses to start while a cluster does not answer (one line, exit 2), as an operator's
    // supervisor would see it after a restart during a broker's fault: start it again.
    const refusedUnreachable = k.status === "exit code 2" && !/ mirroring \d+ topic/.test(k.output()) &&
      /^klink run: .*(_TIMED_OUT|_TRANSPORT|_ALL_BROKERS_DOWN|Connection refused)/m.test(k.tail(3));
    // Started again while a second instance (a fault) was starting too: the second won the state,
    // and this one was refused, as it must be; the supervisor starts it again once the second is gone.
    const lostTheRace = k.status === "exit code 2" && !/ mirroring \d+ topic/.test(k.output()) && isRefusal(k.tail(3));
    if (!this.excused.has(k) && !refusedUnreachable && !lostTheRace) {
      this.violations.push({
        kind: "klink exited by itself",
        where: `klink main pid ${k.pid} (${k.logFile})`,
        detail: `${k.status} after ${((Date.now() - k.startedAt) / 1000).toFixed(0)} s; last lines:\n${k.tail(15)}`,
      });
    }
    this.log(`klink main pid ${k.pid} had ended (${k.status}); starting it again`);
    this.startMain();
  }

  /** SIGTERM the main instance; it must stop within 60 s. */
  async stopMain(): Promise<void> {
    const k = this.main;
    if (!k) return;
    this.ensureRunning(); // report an earlier death, if any
    const main = this.main!;
    const inTime = await main.stop("SIGTERM", 60_000);
    this.log(`klink main pid ${main.pid} stopped (${main.status})`);
    if (!inTime) this.violations.push({ kind: "klink ignored SIGTERM", where: `klink main pid ${main.pid}`, detail: `still running 60 s after SIGTERM; last lines:\n${main.tail(15)}` });
    this.main = null;
  }

  /** `klink run --until-caught-up`: it must end with exit code 0 within `timeoutMs`. */
  async catchUp(timeoutMs: number): Promise<void> {
    const k = this.spawn(["run", this.file, "--until-caught-up"], "catch-up");
    const ended = await k.waitExit(timeoutMs);
    if (!ended) {
      await k.stop("SIGTERM", 30_000);
      this.violations.push({ kind: "never caught up", where: `klink run --until-caught-up pid ${k.pid}`, detail: `still running after ${timeoutMs / 1000} s (writers had stopped); last lines:\n${k.tail(15)}` });
    } else if (k.proc.exitCode !== 0) {
      this.violations.push({ kind: "catch-up run failed", where: `klink run --until-caught-up pid ${k.pid}`, detail: `${k.status}; last lines:\n${k.tail(15)}` });
    }
    this.log(`klink catch-up run ${ended ? `ended (${k.status})` : "did not end: stopped"} after ${((Date.now() - k.startedAt) / 1000).toFixed(1)} s`);
  }

  /** Every distinct "topic[p]: stopped: reason" line klink printed, in any of its processes. */
  stoppedPartitions(): Violation[] {
    const seen = new Map<string, Violation>();
    for (const k of this.processes) {
      for (const line of k.output().split("\n")) {
        const m = /(\S+\[\d+\]):? stopped: (.*)$/.exec(line);
        if (!m) continue;
        const key = `${m[1]} ${m[2]}`;
        if (!seen.has(key)) seen.set(key, { kind: "partition stopped", where: `${m[1]} (klink ${k.label} pid ${k.pid})`, detail: m[2]! });
      }
    }
    return [...seen.values()];
  }

  /** Every process that died of an uncaught error (Bun prints the error, a stack and its version). */
  crashes(): Violation[] {
    const out: Violation[] = [];
    for (const k of this.processes) {
      const text = k.output();
      if (!/^Bun v\d/m.test(text)) continue;
      const error = /^(\w*Error\b|error:).*$/m.exec(text)?.[0] ?? "(no error line)";
      out.push({ kind: "klink crashed", where: `klink ${k.label} pid ${k.pid} (${k.logFile})`, detail: error });
    }
    return out;
  }

  /** What klink's processes did wrong, judged from their exits and output. */
  findings(): Violation[] {
    return [...this.violations, ...this.crashes(), ...this.stoppedPartitions()];
  }

  async killAll(): Promise<void> {
    await Promise.all(this.processes.map((k) => k.stop("SIGKILL", 10_000)));
  }
}
