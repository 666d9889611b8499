import type { DataSource, DataSourceOptions } from "typeorm";
import { findDialect, type Dialect } from "./dialect";
import { mysqlDialect } from "./mysql/mysql-dialect";
import { postgresDialect } from "./postgres/postgres-dialect";
import { sqliteDialect } from "./sqlite/sqlite-dialect";

export type { Dialect, ScratchDatabase } from "./dialect";

const DIALECTS: readonly Dialect[] = [postgresDialect, sqliteDialect, mysqlDialect];

/**
 * The dialect of a DataSource's driver: the one place that maps a driver to its SQL.
 *
 * @throws ConfigurationError for a driver typeorm-router does not support yet.
 */
export function dialectFor(source: DataSource | DataSourceOptions): Dialect {
  return findDialect(DIALECTS, source);
}
