import type { DataSourceOptions, QueryRunner } from "typeorm";
import type { ReadOnlySession } from "../dialect";

// ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION (TypeORM wraps it in QueryFailedError).
function refusedWrite(error: unknown): boolean {
  const driverError = (error as { driverError?: { errno?: unknown } }).driverError ?? error;
  return (driverError as { errno?: unknown })?.errno === 1792;
}

/**
 * MySQL/MariaDB: each connection of a read-only alias's own pool is made a read-only session
 * (`SET SESSION TRANSACTION READ ONLY`) before its first statement, so the server refuses
 * writes and DDL, in transactions and autocommit statements alike. The pool serves that alias
 * only, so the setting never reaches another database's work.
 */
export const mysqlReadOnly: ReadOnlySession = {
  options: (options: DataSourceOptions) => options,
  runner(queryRunner: QueryRunner, refused: (cause: unknown) => Error): QueryRunner {
    const connect = queryRunner.connect.bind(queryRunner);
    const query = queryRunner.query.bind(queryRunner);
    let readOnly: Promise<unknown> | undefined;
    Object.assign(queryRunner, {
      async connect() {
        const connection: unknown = await connect();
        readOnly ??= query("SET SESSION TRANSACTION READ ONLY");
        await readOnly;
        return connection;
      },
      query: (sql: string, parameters?: unknown[], structured?: boolean) =>
        query(sql, parameters, structured as true).catch((error: unknown) => {
          throw refusedWrite(error) ? refused(error) : error;
        }),
    });
    return queryRunner;
  },
};
