/**
 * A plugin that calls process.exit would end klink silently, with the plugin's exit code and
 * nothing said. While a user plugin's code runs (its import, its checks, create(), and every
 * method of the instance it returns) process.exit throws a PluginExitError instead, which klink
 * reports as that plugin's error. klink itself ends through exitProcess, which is never blocked.
 */
const realExit = process.exit.bind(process);
/** The plugins whose code is running now, innermost last (an async method keeps its place until it settles). */
const running: string[] = [];

export class PluginExitError extends Error {
  override name = "PluginExitError";
}

process.exit = ((code?: number | string | null) => {
  const plugin = running.at(-1);
  if (plugin === undefined) return realExit(code as number);
  throw new PluginExitError(`${plugin} called process.exit(${code ?? ""}): a plugin must throw an Error instead, and klink reports it`);
}) as typeof process.exit;

/** Ends klink (the CLI's own exit: never intercepted). */
export function exitProcess(code: number): never {
  return realExit(code);
}

/** Runs `fn` (plugin code) with process.exit intercepted until its result, or its promise, is settled. */
export function whilePluginRuns<T>(plugin: string, fn: () => T): T {
  running.push(plugin);
  const done = () => void running.splice(running.lastIndexOf(plugin), 1);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    done();
    throw err;
  }
  if (result && typeof (result as { then?: unknown }).then === "function") {
    (result as unknown as PromiseLike<unknown>).then(done, done);
  } else done();
  return result;
}

/** The instance with each of its methods run by whilePluginRuns. */
export function guardedInstance<T extends object>(plugin: string, instance: T): T {
  return new Proxy(instance, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      return typeof value === "function" ? (...args: unknown[]) => whilePluginRuns(plugin, () => value.apply(target, args)) : value;
    },
  });
}
