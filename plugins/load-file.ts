/**
 * Imports a user's plugin file so that its mistakes become one line naming the file, never a hang
 * or a silent exit. Bun cannot interrupt JavaScript that loops on klink's own thread, so the file
 * is first imported in a Worker, given PLUGIN_LOAD_LIMIT_MS, and stopped after that; a process.exit
 * there ends the Worker only. A file that loads there is then imported by klink itself (its
 * top-level code runs twice), with process.exit intercepted (exit-guard.ts).
 */
import { pathToFileURL } from "node:url";
import { whilePluginRuns } from "./exit-guard.ts";

/** Loading a plugin takes milliseconds; this only stops one that never finishes. */
export const PLUGIN_LOAD_LIMIT_MS = 10_000;

type Outcome = { ok: true } | { ok: false; problem: string };

const TRIAL = `self.onmessage = async (event) => {
  try { await import(event.data); postMessage({ ok: true }); }
  catch (err) { postMessage({ ok: false, problem: String((err && err.message) || err).split("\\n")[0] }); }
};`;

/** The module at the absolute `path`, or the problem that kept it from loading. */
export async function importPluginFile(path: string, ref: string): Promise<{ module: Record<string, unknown> } | { problem: string }> {
  const url = pathToFileURL(path).href;
  const trial = await loadInWorker(url, ref);
  if (!trial.ok) return { problem: trial.problem };
  try {
    return { module: await whilePluginRuns(`plugin ${ref}`, () => import(url)) };
  } catch (err) {
    return { problem: `cannot load plugin ${ref}: ${firstLine(err)}` };
  }
}

function loadInWorker(url: string, ref: string): Promise<Outcome> {
  const script = URL.createObjectURL(new Blob([TRIAL], { type: "application/javascript" }));
  const worker = new Worker(script);
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const finish = (outcome: Outcome) => {
      if (settled) return; // terminate() closes the Worker too
      settled = true;
      clearTimeout(timer);
      worker.terminate();
      URL.revokeObjectURL(script);
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ ok: false, problem: `plugin ${ref} did not finish loading within ${PLUGIN_LOAD_LIMIT_MS / 1000} s: its top-level code loops or waits; move slow work into create()` }), PLUGIN_LOAD_LIMIT_MS);
    worker.onmessage = (event: MessageEvent<Outcome>) => finish(event.data.ok ? event.data : { ok: false, problem: `cannot load plugin ${ref}: ${event.data.problem}` });
    worker.onerror = (event: ErrorEvent) => finish({ ok: false, problem: `cannot load plugin ${ref}: ${event.message}` });
    worker.addEventListener("close", (event) => {
      const code = (event as unknown as { code?: number }).code;
      finish({ ok: false, problem: `plugin ${ref} called process.exit(${code ?? ""}) while loading: a plugin must throw an Error instead, and klink reports it` });
    });
    worker.postMessage(url);
  });
}

export function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split("\n")[0] ?? message;
}
