import type { DataSource } from "typeorm";

/** The parts of a `pg.Client` this reads: its wire connection and pg-pool's reuse flag. */
interface PgClient {
  _queryable?: boolean;
  readonly connection?: {
    on(event: "errorMessage", listener: (message: { severity?: string }) => void): unknown;
  };
}

/** The part of a `pg.Pool` this uses. */
export interface AcquiringPool {
  on?(event: "acquire", listener: (client: PgClient) => void): unknown;
}

const WATCHED = new WeakSet<object>();

/**
 * Makes `dataSource`'s pools (master and replicas) discard a connection whose session the
 * server ended while a statement ran on it (a `FATAL` error: `pg_terminate_backend`, an
 * administrator shutdown, a pooler closing the session).
 *
 * pg hands such an error to the running statement but marks the client unusable only once
 * the socket closes, a moment later. TypeORM releases the client in between, so the pool
 * would hand the dead connection to the next caller, whose statement would fail with
 * "Connection terminated unexpectedly". pg-pool discards a client released while it is not
 * `_queryable` (the flag pg-pool itself reads), so the client is marked at the `FATAL` error.
 */
export function discardEndedSessions(dataSource: DataSource): void {
  const driver = dataSource.driver as unknown as {
    master?: AcquiringPool;
    slaves?: AcquiringPool[];
  };
  for (const pool of [driver.master, ...(driver.slaves ?? [])]) discardEndedSessionsOf(pool);
}

/** {@link discardEndedSessions} for one pool (e.g. the pool tenant schemas share). */
export function discardEndedSessionsOf(pool: AcquiringPool | undefined): void {
  pool?.on?.("acquire", (client) => {
    if (WATCHED.has(client) || !client.connection) return;
    WATCHED.add(client);
    client.connection.on("errorMessage", (message) => {
      if (message.severity === "FATAL") client._queryable = false;
    });
  });
}
