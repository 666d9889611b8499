import { createConnection, type Connection } from "mysql2/promise";

/**
 * The MySQL/MariaDB server the MariaDB suites use: root without a password on the project's
 * machines (`.ci/run` starts MariaDB and exports MYSQL_URL). The path is left empty: suites add
 * the database they created.
 */
export const MYSQL_URL = process.env.MYSQL_URL ?? "mysql://root@127.0.0.1:3306/";

/** The URL of database `name` on the MYSQL_URL server. */
export function mysqlDatabaseUrl(name: string): string {
  const url = new URL(MYSQL_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs `fn` on a connection of its own to `url` (MYSQL_URL by default), then closes it. */
export async function withMysql<T>(
  fn: (connection: Connection) => Promise<T>,
  url: string = MYSQL_URL,
): Promise<T> {
  const connection = await createConnection({ uri: url, multipleStatements: false });
  try {
    return await fn(connection);
  } finally {
    await connection.end();
  }
}

/** Runs `sql` (with `?` parameters) on `url` and returns its rows. */
export async function mysqlRows<T = Record<string, unknown>>(
  url: string,
  sql: string,
  parameters: readonly (string | number | null)[] = [],
): Promise<T[]> {
  return withMysql(async (connection) => {
    const [rows] = await connection.query(sql, [...parameters]);
    return rows as T[];
  }, url);
}

/** Whether the MySQL/MariaDB server answers at MYSQL_URL within a few seconds. */
export async function mysqlAvailable(): Promise<boolean> {
  try {
    const connection = await createConnection({ uri: MYSQL_URL, connectTimeout: 5000 });
    await connection.end();
    return true;
  } catch {
    return false;
  }
}

/**
 * Drops every database whose name starts with `prefix` on the MYSQL_URL server: for suites
 * that create databases through code that does not report their names (the CLI,
 * `tenants.create`).
 */
export async function dropMysqlDatabasesByPrefix(prefix: string): Promise<void> {
  const names = await mysqlRows<{ name: string }>(
    MYSQL_URL,
    "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE LEFT(SCHEMA_NAME, CHAR_LENGTH(?)) = ?",
    [prefix, prefix],
  );
  await Promise.all(
    names.map(({ name }) => mysqlRows(MYSQL_URL, `DROP DATABASE IF EXISTS \`${name}\``)),
  );
}
