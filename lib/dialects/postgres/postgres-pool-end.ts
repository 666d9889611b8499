import type { DataSource } from "typeorm";

/** The part of a `pg.Pool` that tells when its clients' sockets are closed. */
interface EndablePool {
  readonly totalCount?: number;
  on?(event: "remove", listener: () => void): unknown;
  removeListener?(event: "remove", listener: () => void): unknown;
}

/** Resolves once a pool's clients have closed; `stop()` gives up waiting. */
interface ClosingWatch {
  readonly closed: Promise<void>;
  stop(): void;
}

// Past this, a connection the server never acknowledged closing is left to the OS.
const SOCKETS_CLOSED_TIMEOUT_MS = 10_000;

/**
 * Watches every client `pool` holds now until it has closed its socket. `pg.Pool#end()`
 * resolves when its client list is empty, before `client.end()` finished: the server may
 * still list the sessions, and a `DROP DATABASE` right after a close could find them.
 * pg-pool emits `remove` after each `client.end()` completes.
 */
export function watchClosing(pool: EndablePool | undefined): ClosingWatch {
  let left = typeof pool?.totalCount === "number" ? pool.totalCount : 0;
  if (left === 0 || !pool?.on || !pool.removeListener)
    return { closed: Promise.resolve(), stop: () => undefined };
  let stop!: () => void;
  const closed = new Promise<void>((resolve) => {
    stop = () => {
      clearTimeout(timer);
      pool.removeListener!("remove", onRemove);
      resolve();
    };
    const onRemove = () => {
      if (--left <= 0) stop();
    };
    const timer = setTimeout(stop, SOCKETS_CLOSED_TIMEOUT_MS);
    timer.unref();
    pool.on!("remove", onRemove);
  });
  return { closed, stop };
}

/**
 * `dataSource.destroy()` of a PostgreSQL DataSource that resolves only once the server has
 * seen each of its connections close (master and replica pools). A DataSource whose destroy
 * closed nothing (a tenant's view of a shared one) resolves at once.
 */
export async function destroyPostgres(dataSource: DataSource): Promise<void> {
  const driver = dataSource.driver as unknown as { master?: EndablePool; slaves?: EndablePool[] };
  const watches = [driver.master, ...(driver.slaves ?? [])].map(watchClosing);
  const stopAll = () => watches.forEach((watch) => watch.stop());
  try {
    await dataSource.destroy();
  } catch (error) {
    stopAll();
    throw error;
  }
  if (dataSource.isInitialized) stopAll();
  await Promise.all(watches.map((watch) => watch.closed));
}
