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

// Schemas written for these drivers use column types SQLite rejects (mediumtext, enum(...)).
const OWN_SERVER_TYPES: readonly string[] = ["mysql", "mariadb"];

/**
 * Where `createTestDatabases` puts test databases when it is not told: on the app's own
 * MySQL/MariaDB server (temporary databases) when `app` is one, since SQLite cannot hold its
 * schema; else in SQLite files, with the app's own SQLite driver when it uses node-sqlite3
 * (`sqlite`, so better-sqlite3 need not be installed), or better-sqlite3.
 */
export function defaultTestServer(app: DataSourceOptions | undefined): DataSourceOptions {
  if (app && OWN_SERVER_TYPES.includes(app.type)) return app;
  const type = (app?.type as string | undefined) === "sqlite" ? "sqlite" : "better-sqlite3";
  return { type, database: "test.sqlite" } as DataSourceOptions;
}
