import type { DataSource, DataSourceOptions } from "typeorm";
import { findDialect, type TestingDialect } from "./dialect";
import { mysqlTesting } from "./mysql/mysql-testing";
import { postgresTesting } from "./postgres/postgres-testing";
import { sqliteTesting } from "./sqlite/sqlite-testing";

// Only typeorm-router/testing imports this module: introspection and DDL parsing stay out of
// the main entry.
const TESTING_DIALECTS: readonly TestingDialect[] = [postgresTesting, sqliteTesting, mysqlTesting];

/**
 * The introspection and cloning of a DataSource's driver.
 *
 * @throws ConfigurationError for a driver typeorm-router does not support yet.
 */
export function testingDialectFor(source: DataSource | DataSourceOptions): TestingDialect {
  return findDialect(TESTING_DIALECTS, source);
}
