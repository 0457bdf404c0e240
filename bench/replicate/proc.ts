/**
 * CPU time and peak memory of one process, read from /proc (Linux). CPU counts every thread of
 * the process (the JVM's GC and JIT threads, librdkafka's broker threads); children are not ours.
 * Per-thread CPU is kept too, grouped by what the threads do (their names), to show where a
 * replicator spends it.
 */
import { readdirSync, readFileSync } from "node:fs";

const CLK_TCK = (() => {
  const r = Bun.spawnSync(["getconf", "CLK_TCK"]);
  const n = Number(r.stdout.toString().trim());
  return n > 0 ? n : 100;
})();

export interface ProcSample {
  /** user + system CPU seconds so far */
  cpuSeconds: number;
  /** peak resident set size so far (VmHWM), bytes */
  peakRssBytes: number;
}

/** comm and user + system CPU seconds from a /proc/.../stat line; null for a zombie. */
function parseStat(stat: string): { comm: string; cpu: number } | null {
  const close = stat.lastIndexOf(")");
  const comm = stat.slice(stat.indexOf("(") + 1, close);
  // fields after "(comm)": state ppid ... utime (14th field overall) stime (15th)
  const rest = stat.slice(close + 2).split(" ");
  if (rest[0] === "Z") return null;
  return { comm, cpu: (Number(rest[11]) + Number(rest[12])) / CLK_TCK };
}

/** A sample of `pid`, or null when it has exited (or is a zombie). */
export function sampleProcess(pid: number): ProcSample | null {
  try {
    const s = parseStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
    if (!s) return null;
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const hwm = status.match(/^VmHWM:\s+(\d+) kB/m);
    return { cpuSeconds: s.cpu, peakRssBytes: hwm ? Number(hwm[1]) * 1024 : 0 };
  } catch {
    return null;
  }
}

/**
 * What a thread does, from its name (Linux keeps 15 characters): the JS thread of a Bun process
 * (tid = pid), librdkafka's threads (rdk:*), the JVM's Kafka client threads, GC and JIT threads.
 */
export function threadRole(comm: string, isMain: boolean): string {
  if (comm.startsWith("rdk:")) return "librdkafka";
  if (/^(JITWorker|JSCWarmUp|C[12] CompilerThre|C1 CompilerThre|C2 CompilerThre|Sweeper|Compiler)/.test(comm)) return "JIT";
  if (/^(HeapHelper|Heap Helper|mi-scavenger|G1 |GC Thread|GC |VM Thread|VM Periodic)/.test(comm)) return "GC & VM";
  if (/^task-thread/.test(comm)) return "MM2 task threads";
  if (/^kafka-producer|^kafka-coordinat|^kafka-admin|^kafka-consumer/.test(comm)) return "Kafka client I/O";
  if (isMain) return "main (JS) thread";
  return "other";
}

/** Keeps the latest sample of a process, so its figures survive its exit. */
export class ProcessWatch {
  last: ProcSample = { cpuSeconds: 0, peakRssBytes: 0 };
  /** latest CPU seconds per thread id, with its role */
  private readonly threads = new Map<number, { role: string; cpu: number }>();
  constructor(readonly pid: number) {}

  /** Takes a sample; false once the process is gone (the last sample stays). */
  sample(): boolean {
    const s = sampleProcess(this.pid);
    if (!s) return false;
    this.last = { cpuSeconds: s.cpuSeconds, peakRssBytes: Math.max(this.last.peakRssBytes, s.peakRssBytes) };
    try {
      for (const tid of readdirSync(`/proc/${this.pid}/task`)) {
        try {
          const t = parseStat(readFileSync(`/proc/${this.pid}/task/${tid}/stat`, "utf8"));
          if (t) this.threads.set(Number(tid), { role: threadRole(t.comm, Number(tid) === this.pid), cpu: t.cpu });
        } catch {
          // the thread ended between the listing and the read
        }
      }
    } catch {
      // the process ended
    }
    return true;
  }

  /** CPU seconds per thread role, as of the latest sample (threads that ended earlier keep their last value). */
  byRole(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const t of this.threads.values()) out[t.role] = (out[t.role] ?? 0) + t.cpu;
    return out;
  }
}
