import type { DataSource, DataSourceOptions } from "typeorm";
import { findDialect, type Dialect, type StartupFacts } from "./dialect";
import { mysqlDialect } from "./mysql/mysql-dialect";
import { postgresDialect } from "./postgres/postgres-dialect";
import { sqliteDialect } from "./sqlite/sqlite-dialect";

export type { ConnectionWait, Dialect, ScratchDatabase, StartupFacts } from "./dialect";

const DIALECTS: readonly Dialect[] = [postgresDialect, sqliteDialect, mysqlDialect];

/**
 * The dialect of a DataSource's driver: the one place that maps a driver to its SQL.
 *
 * @throws ConfigurationError for a driver typeorm-router does not support yet.
 */
export function dialectFor(source: DataSource | DataSourceOptions): Dialect {
  return findDialect(DIALECTS, source);
}

/**
 * Destroys `dataSource` and resolves once its connections are closed on the server too, so
 * that what follows (a `DROP DATABASE`, a count of sessions) never sees them.
 */
export function destroyDataSource(dataSource: DataSource): Promise<void> {
  const dialect = knownDialect(dataSource.options);
  return dialect?.destroy ? dialect.destroy(dataSource) : dataSource.destroy();
}

/**
 * The dialect of `options`' driver, or `undefined` for a driver typeorm-router does not know
 * (such a DataSource simply works as TypeORM makes it).
 */
export function knownDialect(options: DataSourceOptions): Dialect | undefined {
  return DIALECTS.find((dialect) => dialect.types.includes(options.type));
}

/**
 * Whether `error` (a driver error, or TypeORM's `QueryFailedError` around one) says that the
 * connection to a database server broke or could not be made (see `Dialect.connectionLost`).
 * Each dialect recognises only its own driver's errors, so every one is asked.
 */
export function isConnectionLost(error: unknown): boolean {
  const driverError = (error as { driverError?: unknown } | null)?.driverError ?? error;
  return DIALECTS.some((dialect) => dialect.connectionLost?.(driverError) === true);
}

/**
 * The {@link StartupFacts} of `options`' driver, or `undefined` for a driver that has none
 * (or that typeorm-router does not know: such a DataSource simply connects as TypeORM does).
 */
export function startupFactsFor(options: DataSourceOptions): StartupFacts | undefined {
  return knownDialect(options)?.startupFacts;
}
