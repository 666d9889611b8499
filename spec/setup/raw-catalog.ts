import { existsSync } from "node:fs";
import type { DataSourceOptions } from "typeorm";
import { PG_URL, type DriverCase, type DriverFixture } from "./drivers";
import { MYSQL_URL } from "./mysql";

/**
 * Options of the server (PostgreSQL, MariaDB) or driver (SQLite) that `emptyDatabase` and the
 * migration tester create their databases on. The SQLite path is deliberately `:memory:`: the
 * helpers must ignore it and use a file.
 */
export function serverOptions(driver: DriverCase): DataSourceOptions {
  switch (driver.name) {
    case "postgres":
      return { type: "postgres", url: PG_URL };
    case "mariadb":
      return { type: "mariadb", url: MYSQL_URL };
    case "sqlite":
      return { type: "better-sqlite3", database: ":memory:" };
  }
}

/**
 * Every table in the database `options` points at, read from the raw catalog without
 * TypeORM: all of `sqlite_master` (SQLite's own tables included), `information_schema.tables`
 * in every schema but `pg_catalog` and `information_schema` (PostgreSQL), as `schema.table`,
 * or `information_schema.TABLES` of that database (MariaDB, where a database is a schema).
 */
export async function catalogTables(
  fixture: DriverFixture,
  options: DataSourceOptions,
): Promise<string[]> {
  if (fixture.name === "sqlite") {
    const rows = await fixture.rows<{ name: string }>(
      options,
      "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    );
    return rows.map((row) => row.name);
  }
  if (fixture.name === "mariadb") {
    const rows = await fixture.rows<{ name: string }>(
      options,
      "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1",
    );
    return rows.map((row) => row.name);
  }
  const rows = await fixture.rows<{ name: string }>(
    options,
    "SELECT table_schema || '.' || table_name AS name FROM information_schema.tables " +
      "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
  );
  return rows.map((row) => row.name);
}

/**
 * Whether the database `options` points at still exists: its file (SQLite), its row in
 * `pg_database` (PostgreSQL) or in `information_schema.SCHEMATA` (MariaDB), read without TypeORM.
 */
export async function databaseExists(
  fixture: DriverFixture,
  options: DataSourceOptions,
): Promise<boolean> {
  if (fixture.name === "sqlite") return existsSync(String(options.database));
  if (fixture.name === "mariadb") return fixture.databaseExists(options);
  const name = decodeURIComponent(
    new URL(String((options as { url: string }).url)).pathname.slice(1),
  );
  const rows = await fixture.rows(
    { type: "postgres", url: PG_URL },
    `SELECT 1 FROM pg_database WHERE datname = '${name.replace(/'/g, "''")}'`,
  );
  return rows.length === 1;
}
