import type { DataSourceOptions, QueryRunner } from "typeorm";
import type { ScratchDatabase, TestingDialect } from "../dialect";
import { mysqlDialect } from "./mysql-dialect";
import { introspectMysql } from "./mysql-introspection";
import { databaseOf, onServer, quote, type MysqlOptions } from "./mysql-server";

/**
 * MySQL and MariaDB introspection (`information_schema`) and cloning. MySQL has no
 * `CREATE DATABASE … TEMPLATE`: each table is recreated from `SHOW CREATE TABLE` (keys,
 * indexes, checks, foreign keys and the AUTO_INCREMENT counter included) and its rows copied
 * with `INSERT … SELECT`, foreign key checks off meanwhile. Views, triggers and routines are
 * not copied.
 */
export const mysqlTesting: TestingDialect = {
  types: mysqlDialect.types,
  introspect: introspectMysql,
  async cloneDatabase(template: DataSourceOptions): Promise<ScratchDatabase> {
    const source = databaseOf(template as MysqlOptions);
    const clone = await mysqlDialect.createScratchDatabase(template);
    const target = databaseOf(clone.options as MysqlOptions);
    try {
      await onServer(template as MysqlOptions, async (server) => {
        await server.query("SET FOREIGN_KEY_CHECKS = 0");
        await server.query(`USE ${quote(target)}`);
        for (const table of await baseTables(server, source)) {
          const [created] = (await server.query(
            `SHOW CREATE TABLE ${quote(source)}.${quote(table)}`,
          )) as Record<string, string>[];
          // SHOW CREATE TABLE names the table and same-database references unqualified, so
          // it runs as is in the clone (the current database).
          await server.query(created["Create Table"]);
          const columns = (await copiedColumns(server, source, table)).map(quote).join(", ");
          await server.query(
            `INSERT INTO ${quote(target)}.${quote(table)} (${columns}) ` +
              `SELECT ${columns} FROM ${quote(source)}.${quote(table)}`,
          );
        }
      });
    } catch (error) {
      await clone.drop().catch(() => undefined);
      throw error;
    }
    return clone;
  },
};

async function baseTables(server: QueryRunner, database: string): Promise<string[]> {
  const rows = (await server.query(
    "SELECT TABLE_NAME AS name FROM information_schema.TABLES " +
      "WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    [database],
  )) as { name: string }[];
  return rows.map((row) => row.name);
}

// Generated columns cannot be written; they are computed again in the clone.
async function copiedColumns(
  server: QueryRunner,
  database: string,
  table: string,
): Promise<string[]> {
  const rows = (await server.query(
    "SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS " +
      "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND EXTRA NOT LIKE '%STORED GENERATED%' " +
      "AND EXTRA NOT LIKE '%VIRTUAL GENERATED%' AND EXTRA NOT IN ('PERSISTENT', 'VIRTUAL') " +
      "ORDER BY ORDINAL_POSITION",
    [database, table],
  )) as { name: string }[];
  return rows.map((row) => row.name);
}
