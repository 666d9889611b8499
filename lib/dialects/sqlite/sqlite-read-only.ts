import type { DataSourceOptions, QueryRunner } from "typeorm";
import type { ReadOnlySession } from "../dialect";

// better-sqlite3 throws SqliteError SQLITE_READONLY (TypeORM wraps it in QueryFailedError).
function refusedWrite(error: unknown): boolean {
  const driverError = (error as { driverError?: { code?: unknown } }).driverError ?? error;
  return (driverError as { code?: unknown })?.code === "SQLITE_READONLY";
}

// node-sqlite3's OPEN_READONLY flag (the `sqlite` driver of TypeORM 0.3).
const OPEN_READONLY = 0x00000001;

/** SQLite: the file is opened read-only, so SQLite itself refuses every write. */
export const sqliteReadOnly: ReadOnlySession = {
  options: (options: DataSourceOptions) =>
    (options.type === "better-sqlite3"
      ? { ...options, readonly: true }
      : { ...options, flags: OPEN_READONLY }) as DataSourceOptions,
  runner(queryRunner: QueryRunner, refused: (cause: unknown) => Error): QueryRunner {
    const query = queryRunner.query.bind(queryRunner);
    Object.assign(queryRunner, {
      query: (sql: string, parameters?: unknown[], structured?: boolean) =>
        query(sql, parameters, structured as true).catch((error: unknown) => {
          throw refusedWrite(error) ? refused(error) : error;
        }),
    });
    return queryRunner;
  },
};
