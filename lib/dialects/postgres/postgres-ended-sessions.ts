import type { DataSource } from "typeorm";

/** The parts of a `pg.Client` this reads: its wire connection and pg-pool's reuse flag. */
interface PgClient {
  _queryable?: boolean;
  readonly connection?: {
    on(event: "errorMessage", listener: (message: { severity?: string }) => void): unknown;
  };
}

/** The parts of a `pg.Pool` this uses: its clients, and the event of each new one. */
export interface ConnectingPool {
  readonly _clients?: readonly PgClient[];
  on?(event: "connect", listener: (client: PgClient) => void): unknown;
}

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
    master?: ConnectingPool;
    slaves?: ConnectingPool[];
  };
  for (const pool of [driver.master, ...(driver.slaves ?? [])]) discardEndedSessionsOf(pool);
}

/**
 * {@link discardEndedSessions} for one pool (e.g. the pool tenant schemas share): its clients
 * now, and each new one as it connects (once per connection, nothing per checkout).
 */
export function discardEndedSessionsOf(pool: ConnectingPool | undefined): void {
  for (const client of pool?._clients ?? []) watch(client);
  pool?.on?.("connect", watch);
}

function watch(client: PgClient): void {
  client.connection?.on("errorMessage", (message) => {
    if (message.severity === "FATAL") client._queryable = false;
  });
}
