/**
 * SIGTERM and SIGINT stop `klink run` cleanly: the first one asks the link to stop (records in
 * flight are acknowledged, the state stored). A clean stop can wait on a cluster that does not
 * answer; after STOP_LIMIT_MS, or at a second signal, klink exits at once. Nothing is lost that
 * way: the state is only ever written after the clusters acknowledged, and a start after an
 * unclean stop finds its place from the clusters themselves, as after kill -9 (docs/offsets.md,
 * "Restart").
 */
import { EXIT_RUNTIME } from "./command.ts";
import { exitProcess } from "../../plugins/exit-guard.ts"; // process.exit is refused while plugin code runs

/** How long a clean stop may take before klink exits anyway (a systemd TimeoutStopSec must be longer). */
export const STOP_LIMIT_MS = 30_000;

/** Calls `stop` at the first SIGTERM/SIGINT; returns what removes the handlers. */
export function onStopSignals(stop: () => void, log: (line: string) => void): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const handler = (signal: NodeJS.Signals) => {
    if (timer) {
      log(`${signal} again: exiting now; the next start resumes from the clusters as after a crash`);
      exitProcess(EXIT_RUNTIME);
    }
    log(`${signal}: stopping (up to ${STOP_LIMIT_MS / 1000} s; a second signal exits at once)`);
    timer = setTimeout(() => {
      log(`still stopping after ${STOP_LIMIT_MS / 1000} s (a cluster does not answer?): exiting now; the next start resumes from the clusters as after a crash`);
      exitProcess(EXIT_RUNTIME);
    }, STOP_LIMIT_MS);
    stop();
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
    if (timer) clearTimeout(timer);
  };
}
