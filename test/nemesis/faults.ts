/** Injecting one planned fault: into klink (kill -9, a second instance, SIGSTOP) or into a broker of either cluster (kill -9). */
import { killBroker } from "../harness/cluster.ts";
import type { Clusters } from "../link/dual-write-workload.ts";
import { restartNode } from "./clusters.ts";
import { klinkLines, isRefusal } from "./klink-process.ts";
import type { KlinkSupervisor } from "./klink-supervisor.ts";
import type { FaultKind, PlannedFault } from "./plan.ts";
import type { Random } from "./random.ts";

export interface InjectedFault {
  kind: FaultKind;
  /** seconds after the live phase began */
  at: number;
  /** how long it lasted, in seconds (until klink or the broker was back) */
  took: number;
  detail: string;
}

export interface FaultContext {
  klink: KlinkSupervisor;
  clusters: Clusters;
  storage: "sqlite" | "kafka";
  rng: Random;
  /** ms since the live phase began */
  elapsed: () => number;
  log: (line: string) => void;
}

export async function inject(f: PlannedFault, ctx: FaultContext): Promise<InjectedFault> {
  const at = ctx.elapsed() / 1000;
  ctx.klink.ensureRunning();
  ctx.log(`FAULT ${f.kind} (hold ${(f.holdMs / 1000).toFixed(1)} s)`);
  const detail = await FAULTS[f.kind](f.holdMs, ctx);
  const took = ctx.elapsed() / 1000 - at;
  ctx.log(`FAULT ${f.kind} over after ${took.toFixed(1)} s: ${detail}`);
  return { kind: f.kind, at, took, detail };
}

const FAULTS: Record<FaultKind, (holdMs: number, ctx: FaultContext) => Promise<string>> = {
  async "klink-kill9"(holdMs, { klink }) {
    const k = klink.main!;
    await k.stop("SIGKILL");
    await Bun.sleep(holdMs);
    const next = klink.startMain();
    return `kill -9 of klink pid ${k.pid}, restarted as pid ${next.pid}`;
  },

  async "klink-sigstop"(holdMs, { klink }) {
    const k = klink.main!;
    k.signal("SIGSTOP");
    await Bun.sleep(holdMs);
    k.signal("SIGCONT");
    return `SIGSTOP of klink pid ${k.pid}, SIGCONT ${(holdMs / 1000).toFixed(1)} s later`;
  },

  // started by mistake on the same file: a correct klink refuses it before it touches a cluster,
  // or (kafka storage) fences the older instance, which then stops; never do both run at once
  async "second-instance"(holdMs, { klink, storage }) {
    const main = klink.main!;
    const second = klink.spawn(["run", klink.file], "second");
    const ended = await second.waitExit(holdMs);
    const bothAlive = !ended && !main.exited;
    const mainEnded = main.exited;
    if (storage === "kafka" && mainEnded) klink.excuse(main); // fenced by the newer writer: by design
    await second.stop("SIGTERM", 30_000);
    const out = second.output();
    // Alive is not running: under load a second instance may still be starting (no line yet), or
    // have said its refusal while it asked the first one who it is (up to 5 s). It ran only if it
    // got past the refusal and said what it did.
    const said = klinkLines(out);
    const both = bothAlive && said.length > 0 && !said.some(isRefusal);
    const where = `klink second pid ${second.pid} beside main pid ${main.pid} (${second.logFile})`;
    if (both) {
      klink.violations.push({ kind: "two klink instances ran at once", where, detail: `both ran for ${(holdMs / 1000).toFixed(1)} s on the same file and state (${storage} storage) until the second was stopped; its last lines:\n${second.tail(8)}` });
    } else if (ended && out.includes("mirroring ")) {
      klink.violations.push({ kind: "second instance not refused", where, detail: `it started mirroring before it ended (${second.status}); its last lines:\n${second.tail(8)}` });
    }
    const first = out.trim().split("\n")[0] ?? "";
    return `second klink pid ${second.pid} ${ended ? `ended by itself (${second.status})` : `ran ${(holdMs / 1000).toFixed(1)} s until stopped`}; main pid ${main.pid} ${mainEnded ? `had ended (${main.status})` : "still running"}; the second's first line: ${first}`;
  },

  "source-broker-kill9": (holdMs, ctx) => brokerKill("source", holdMs, ctx),
  "target-broker-kill9": (holdMs, ctx) => brokerKill("target", holdMs, ctx),
};

async function brokerKill(side: "source" | "target", holdMs: number, { clusters, rng }: FaultContext): Promise<string> {
  const c = clusters[side];
  const node = rng.pick(c.brokers).nodeId;
  const pid = c.brokers.find((b) => b.nodeId === node)!.pid;
  await killBroker(c, node, "SIGKILL");
  await Bun.sleep(holdMs);
  const t = Date.now();
  await restartNode(c, node);
  return `kill -9 of ${c.name} node ${node} (pid ${pid}), restarted after ${(holdMs / 1000).toFixed(1)} s, ready ${((Date.now() - t) / 1000).toFixed(1)} s later`;
}

