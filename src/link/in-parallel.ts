/**
 * Runs `work` on every item, at most `limit` at a time, and waits for all of them even when one
 * fails (so nothing is still running when the caller closes what they share); then throws the
 * first error. Results keep the items' order.
 */
export async function inParallel<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let failed: { error: unknown } | null = null;
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = await work(items[i]!);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw (failed as { error: unknown }).error;
  return results;
}
