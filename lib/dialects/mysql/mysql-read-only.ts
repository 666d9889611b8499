import type { DataSourceOptions, QueryRunner } from "typeorm";
import type { ReadOnlySession } from "../dialect";

// ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION (TypeORM wraps it in QueryFailedError).
function refusedWrite(error: unknown): boolean {
  const driverError = (error as { driverError?: { errno?: unknown } }).driverError ?? error;
  return (driverError as { errno?: unknown })?.errno === 1792;
}

const READ_ONLY_SQL = "SET SESSION TRANSACTION READ ONLY";

// The mysql2 connection TypeORM's MysqlQueryRunner.connect() resolves to.
interface DriverConnection {
  promise(): { query(sql: string): Promise<unknown> };
}

// The pooled connections already made read-only. A read-only alias's pool serves that alias
// alone and mysql2 hands out the same connection object each time, so the setting is sent
// once per connection, not once per query runner.
const readOnlyConnections = new WeakSet<object>();

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
    Object.assign(queryRunner, {
      async connect() {
        const connection = (await connect()) as DriverConnection;
        if (!readOnlyConnections.has(connection)) {
          // On the driver connection, not through queryRunner.query(): that calls this
          // connect() first, and a connect() that awaits its own query never settles.
          await connection.promise().query(READ_ONLY_SQL);
          readOnlyConnections.add(connection);
        }
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
