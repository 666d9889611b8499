import type { DataSourceOptions } from "typeorm";
import type { StorageOwnership, TenantStorageDialect } from "../tenant-storage";
import { databaseOf, onServer, quote, type MysqlOptions } from "./mysql-server";

// MySQL and MariaDB keep database names to 64 characters.
const NAME_LIMIT_CHARACTERS = 64;
// ER_DB_CREATE_EXISTS: CREATE DATABASE is atomic, the loser of a race gets this.
const EXISTS_CODES = new Set(["ER_DB_CREATE_EXISTS", "1007"]);

/**
 * MariaDB (10.5+) tenant databases: `CREATE DATABASE … COMMENT '<mark>'` creates and marks in
 * one atomic statement (one winner; `ER_DB_CREATE_EXISTS` for the rest); dropped only when
 * `information_schema.SCHEMATA.SCHEMA_COMMENT` is the mark. MySQL has no database comments:
 * there `tenants.create` fails with the server's syntax error.
 */
export const mysqlTenantStorage: TenantStorageDialect = {
  types: ["mysql", "mariadb"],
  systemDatabases: ["mysql", "information_schema", "performance_schema", "sys"],
  nameOf(options) {
    return databaseOf(options as MysqlOptions);
  },
  identityOf(options) {
    const mysql = options as MysqlOptions;
    const name = databaseOf(mysql);
    if (mysql.url) {
      const url = new URL(mysql.url);
      return `mysql://${url.hostname || "localhost"}:${url.port || "3306"}/${name}`;
    }
    return `mysql://${mysql.host ?? "localhost"}:${mysql.port ?? 3306}/${name}`;
  },
  nameTooLong(name) {
    const length = [...name].length;
    return length > NAME_LIMIT_CHARACTERS
      ? { length: `${length} characters`, limit: `${NAME_LIMIT_CHARACTERS} characters` }
      : undefined;
  },
  async createMarked(options: DataSourceOptions, mark: string) {
    const name = databaseOf(options as MysqlOptions);
    return onServer(options as MysqlOptions, async (server) => {
      try {
        await server.query(`CREATE DATABASE ${quote(name)} COMMENT ${literal(mark)}`);
      } catch (error) {
        if (EXISTS_CODES.has(codeOf(error) ?? "")) return "exists" as const;
        throw error;
      }
      return "created" as const;
    });
  },
  async ownership(options: DataSourceOptions, mark: string): Promise<StorageOwnership> {
    const name = databaseOf(options as MysqlOptions);
    const rows = (await onServer(options as MysqlOptions, (server) =>
      server.query(
        "SELECT SCHEMA_COMMENT AS mark FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
        [name],
      ),
    )) as { mark: string | null }[];
    if (rows.length === 0) return { state: "missing" };
    if (rows[0].mark === mark) return { state: "owned" };
    return { state: "foreign", found: rows[0].mark || undefined };
  },
  async drop(options: DataSourceOptions) {
    const name = databaseOf(options as MysqlOptions);
    await onServer(options as MysqlOptions, (server) =>
      server.query(`DROP DATABASE IF EXISTS ${quote(name)}`),
    );
  },
  adoptHint(options: DataSourceOptions, mark: string) {
    return `ALTER DATABASE ${quote(databaseOf(options as MysqlOptions))} COMMENT ${literal(mark)};`;
  },
};

function codeOf(error: unknown): string | undefined {
  const withCode = error as {
    code?: unknown;
    errno?: unknown;
    driverError?: { code?: unknown; errno?: unknown };
  };
  const code = withCode.driverError?.code ?? withCode.code;
  if (typeof code === "string") return code;
  const errno = withCode.driverError?.errno ?? withCode.errno;
  return typeof errno === "number" ? String(errno) : undefined;
}

// A SQL string literal (COMMENT takes no parameters); backslashes escape in MySQL strings.
function literal(text: string): string {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}
