/**
 * Runs `fn` over `items` with at most `concurrency` calls in flight, and resolves with the
 * results in input order. `fn` must not throw: each item's failure belongs in its result.
 * `stop()` returning true prevents items that have not started yet from starting; they get
 * `skipped(item)` instead.
 */
export async function runBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
  options: { stop?: () => boolean; skipped?: (item: T) => R } = {},
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      const item = items[index];
      results[index] = options.stop?.() && options.skipped ? options.skipped(item) : await fn(item);
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker),
  );
  return results;
}
