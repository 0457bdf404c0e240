/** Turns a tinybench task into a row of the micro-benchmark table (ns per op). */
import type { Bench } from "tinybench";
import type { MicroResult } from "../replicate/report.ts";

/** `opsPerCall`: how many ops one call of the task function performs (batches). */
export function results(bench: Bench, ops: Record<string, { op: string; opsPerCall: number }>): MicroResult[] {
  return bench.tasks.map((t) => {
    const r = t.result;
    if (r.state === "errored") throw r.error;
    if (r.state !== "completed") throw new Error(`${t.name}: ${r.state}`);
    const { op, opsPerCall } = ops[t.name] ?? { op: "call", opsPerCall: 1 };
    const ns = (ms: number) => (ms * 1e6) / opsPerCall;
    return {
      name: t.name,
      op,
      nsPerOp: ns(r.latency.mean),
      p50Ns: ns(r.latency.p50),
      p99Ns: ns(r.latency.p99),
      rmePct: r.latency.rme,
      samples: r.latency.df + 1,
    };
  });
}
