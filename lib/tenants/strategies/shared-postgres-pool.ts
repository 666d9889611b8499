import type { Pool, PoolConfig } from "pg";
import { watchClosing } from "../../dialects/postgres/postgres-pool-end";
import { discardEndedSessionsOf } from "../../dialects/postgres/postgres-ended-sessions";
import { RouterLog } from "../../observability/router-log";

// What TypeORM's PostgresDriver uses of `pg`: `new Pool(options)`, `pool.connect(cb)`,
// `pool.on("error")` and `pool.end(cb)` (see PostgresDriver.createPool/closePool).
type PgModule = typeof import("pg");

/**
 * One real `pg.Pool` shared by many TypeORM DataSources, so that the connections the process
 * holds are capped globally however many tenants are open. It is handed to TypeORM as the
 * `driver` option: a `pg` module whose `Pool` constructor returns a view of the shared pool
 * (ending a view never ends the shared pool).
 */
export class SharedPostgresPool {
  /** The real pool. */
  readonly pool: Pool;
  /** A `pg` module for TypeORM's `driver` option whose pools all use {@link pool}. */
  readonly driver: PgModule;

  constructor(config: PoolConfig) {
    // Loaded here, not at import, so SQLite-only users never need `pg`.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pg = require("pg") as PgModule;
    const pool = new pg.Pool(config);
    // An idle client's error would otherwise crash the process: report it instead. TypeORM
    // attaches a handler per DataSource; those are not forwarded, or thousands of tenant
    // DataSources would pile listeners onto one pool.
    // Rate-limited: a server outage fails every idle connection at once.
    pool.on("error", (error) =>
      RouterLog.default.pool.warn(
        "TYPEORM_ROUTER_POOL_ERROR",
        `a pooled PostgreSQL connection failed: ${error.message}`,
        { operation: "idle", error },
      ),
    );
    // Its views' `on` does nothing, so the dialect's hook is set on the real pool here.
    discardEndedSessionsOf(pool);
    this.pool = pool;
    const driver = Object.create(pg) as Record<string, unknown>;
    driver.Pool = function SharedPoolView() {
      return {
        connect: (callback?: (...args: unknown[]) => void) =>
          callback ? pool.connect(callback as never) : pool.connect(),
        query: (...args: unknown[]) => (pool.query as (...a: unknown[]) => unknown)(...args),
        on: () => undefined,
        end: (callback?: (error?: Error) => void) => {
          callback?.();
          return Promise.resolve();
        },
      };
    };
    this.driver = driver as unknown as PgModule;
  }

  /** Connections currently open (idle or in use). */
  get totalCount(): number {
    return this.pool.totalCount;
  }

  /** Ends the shared pool; resolves once the server has seen every connection close. */
  async end(): Promise<void> {
    const watch = watchClosing(this.pool);
    await this.pool.end();
    await watch.closed;
  }
}
