/**
 * One cooperative loop that serves every librdkafka queue klink reads without blocking the JS
 * thread (delivery reports, errors, admin results). Each task polls with timeout 0 and returns
 * how much it handled; the loop spins again at once while there is work and backs off to a few
 * milliseconds when idle. It stops when no task is registered, so it never keeps a finished
 * process alive.
 */
type Task = () => number;

const tasks = new Set<Task>();
let scheduled = false;
let idleTicks = 0;

function tick(): void {
  scheduled = false;
  let handled = 0;
  for (const task of tasks) handled += task();
  if (tasks.size === 0) return;
  idleTicks = handled > 0 ? 0 : idleTicks + 1;
  scheduled = true;
  if (handled > 0) setImmediate(tick);
  else setTimeout(tick, Math.min(idleTicks, 5));
}

/** Registers a task; returns the function that removes it. */
export function addTask(task: Task): () => void {
  tasks.add(task);
  if (!scheduled) {
    scheduled = true;
    setImmediate(tick);
  }
  return () => tasks.delete(task);
}

/** Resolves once `check` returns a value other than undefined, or rejects after `timeoutMs`. */
export function waitFor<T>(check: () => T | undefined, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  const first = check();
  if (first !== undefined) return Promise.resolve(first);
  const deadline = performance.now() + timeoutMs;
  return new Promise<T>((resolve, reject) => {
    const remove = addTask(() => {
      let value: T | undefined;
      try {
        value = check();
      } catch (err) {
        remove();
        reject(err);
        return 1;
      }
      if (value !== undefined) {
        remove();
        resolve(value);
        return 1;
      }
      if (performance.now() > deadline) {
        remove();
        reject(onTimeout());
        return 1;
      }
      return 0;
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
