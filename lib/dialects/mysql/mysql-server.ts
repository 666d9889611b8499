import { DataSource, type DataSourceOptions, type QueryRunner } from "typeorm";

/** TypeORM's options of the `mysql` and `mariadb` drivers (both served by mysql2). */
export type MysqlOptions = Extract<DataSourceOptions, { type: "mysql" | "mariadb" }>;

/** `options` pointed at database `name` instead, on the same server. */
export function renamed(options: MysqlOptions, name: string): MysqlOptions {
  if (!options.url) return { ...options, database: name };
  const url = new URL(options.url);
  url.pathname = `/${encodeURIComponent(name)}`;
  return { ...options, url: url.toString(), database: undefined };
}

/** The database `options` names (`database`, else the path of `url`). */
export function databaseOf(options: MysqlOptions): string {
  if (options.database) return options.database;
  if (options.url) return decodeURIComponent(new URL(options.url).pathname.slice(1));
  return "";
}

/** Options for the server `options` points at, connected to no database. */
export function serverOf(options: MysqlOptions): MysqlOptions {
  if (!options.url) return { ...options, database: undefined };
  const url = new URL(options.url);
  url.pathname = "/";
  return { ...options, url: url.toString(), database: undefined };
}

/**
 * Runs `fn` on one connection to the server `options` points at (no current database), then
 * closes it. One connection, so session settings (`USE`, `FOREIGN_KEY_CHECKS`) hold throughout.
 */
export async function onServer<T>(
  options: MysqlOptions,
  fn: (queryRunner: QueryRunner) => Promise<T>,
): Promise<T> {
  const server = new DataSource({
    ...serverOf(options),
    entities: [],
    migrations: [],
    subscribers: [],
    synchronize: false,
    migrationsRun: false,
    dropSchema: false,
    poolSize: 1,
  });
  await server.initialize();
  const queryRunner = server.createQueryRunner();
  try {
    await queryRunner.connect();
    return await fn(queryRunner);
  } finally {
    await queryRunner.release();
    await server.destroy();
  }
}

/** A backquoted MySQL identifier. */
export function quote(identifier: string): string {
  return `\`${identifier.replace(/`/g, "``")}\``;
}
