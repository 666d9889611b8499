import { DataSource, type DataSourceOptions } from "typeorm";

/** TypeORM's options of the `postgres` driver (derived, so both TypeORM 0.3 and 1.x fit). */
export type PostgresDataSourceOptions = Extract<DataSourceOptions, { type: "postgres" }>;

/** `options` pointed at database `name` instead, on the same server. */
export function renamed(
  options: PostgresDataSourceOptions,
  name: string,
): PostgresDataSourceOptions {
  if (!options.url) return { ...options, database: name };
  const url = new URL(options.url);
  url.pathname = `/${encodeURIComponent(name)}`;
  return { ...options, url: url.toString(), database: undefined };
}

/** The database `options` names, and options for the server's maintenance database. */
export function split(options: PostgresDataSourceOptions): {
  name: string;
  maintenance: PostgresDataSourceOptions;
} {
  if (options.url) {
    const url = new URL(options.url);
    const name = decodeURIComponent(url.pathname.slice(1));
    url.pathname = "/postgres";
    return { name, maintenance: { ...options, url: url.toString(), database: undefined } };
  }
  return { name: String(options.database), maintenance: { ...options, database: "postgres" } };
}

/** Runs one statement on the server `options` points at, over a connection of its own. */
export async function onServer(options: PostgresDataSourceOptions, sql: string): Promise<void> {
  const server = new DataSource({
    ...options,
    entities: [],
    migrations: [],
    synchronize: false,
    poolSize: 1,
  });
  await server.initialize();
  try {
    await server.query(sql);
  } finally {
    await server.destroy();
  }
}

/** A double-quoted SQL identifier. */
export function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
