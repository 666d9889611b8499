// Migrators of one process queue here per database (or schema), across routers: they share
// a connection on SQLite, where a second BEGIN on it would fail, and on PostgreSQL they would
// only wait for each other's advisory lock anyway.
const held = new Map<string, Promise<void>>();

/**
 * Waits until no other migrator of this process works on `key`, then holds it. Resolves with
 * the release function, or `undefined` when `timeoutMs` passed first.
 */
export async function acquireMigrationMutex(
  key: string,
  timeoutMs: number,
): Promise<(() => void) | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = held.get(key);
    if (!current) break;
    const remaining = deadline - Date.now();
    if (remaining <= 0) return undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      current,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, remaining))),
    ]);
    clearTimeout(timer);
  }
  let release!: () => void;
  held.set(key, new Promise<void>((resolve) => (release = resolve)));
  return () => {
    held.delete(key);
    release();
  };
}
