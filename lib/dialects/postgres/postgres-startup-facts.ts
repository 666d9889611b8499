import type { DataSource, DataSourceOptions } from "typeorm";
import type { StartupFacts } from "../dialect";
import type { PostgresDataSourceOptions } from "./postgres-server";

// What TypeORM's PostgresDriver.connect() asks the server when the driver does not know it
// yet: `SELECT version()`, `current_database()` and `current_schema()`, three round trips on
// every new DataSource. It skips each one already set (TypeORM 0.3.31 and 1.x alike).
interface PostgresFacts {
  readonly version: string;
  readonly searchSchema: string;
}

interface PostgresDriverFacts {
  version?: string;
  database?: string;
  searchSchema?: string;
}

/**
 * PostgreSQL's startup answers, remembered per server, role and session options.
 *
 * - The version is the server's.
 * - The database is never shared: the driver reads it from the DataSource's own options
 *   (and asks the server when they name none).
 * - The current schema is the first schema of `search_path` that exists. It depends on the
 *   role (`"$user"`, `ALTER ROLE … SET`) and on session options (`-c search_path=…`), both in
 *   the key. A database of its own `search_path` (`ALTER DATABASE … SET`, or a schema named
 *   after the role in one database only) is the one case the key cannot see; routers whose
 *   tenant databases differ that way should name `schema` in their options.
 */
export const postgresStartupFacts: StartupFacts = {
  key(options: DataSourceOptions): string | undefined {
    const postgres = options as PostgresDataSourceOptions;
    const server = (postgres.replication?.master ?? postgres) as PostgresDataSourceOptions;
    let { host, port, username } = server;
    if (server.url) {
      const url = new URL(server.url);
      host = url.hostname || host;
      port = url.port ? Number(url.port) : port;
      username = url.username ? decodeURIComponent(url.username) : username;
    }
    const extra = (postgres.extra ?? {}) as { options?: unknown };
    return JSON.stringify([host ?? "", port ?? 5432, username ?? "", extra.options ?? null]);
  },
  learnt(dataSource: DataSource): object | undefined {
    const { version, searchSchema } = dataSource.driver as PostgresDriverFacts;
    if (!version || !searchSchema) return undefined;
    const facts: PostgresFacts = { version, searchSchema };
    return facts;
  },
  preset(dataSource: DataSource, facts: object): void {
    const { version, searchSchema } = facts as PostgresFacts;
    const driver = dataSource.driver as PostgresDriverFacts;
    driver.version ??= version;
    driver.searchSchema ??= searchSchema;
  },
};
