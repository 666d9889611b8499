import type { DataSourceOptions, QueryRunner } from "typeorm";
import type { ReadOnlySession } from "../dialect";

// SQLSTATE 25006 read_only_sql_transaction (TypeORM wraps it in QueryFailedError).
function refusedWrite(error: unknown): boolean {
  const driverError = (error as { driverError?: { code?: unknown } }).driverError ?? error;
  return (driverError as { code?: unknown })?.code === "25006";
}

/**
 * PostgreSQL: every statement runs in a READ ONLY transaction. Transactions are marked with
 * `SET TRANSACTION READ ONLY` as they start; a statement outside one runs in a
 * `START TRANSACTION READ ONLY … COMMIT` of its own. Both are transaction-scoped, so this holds
 * through PgBouncer in transaction mode, where session settings (`default_transaction_read_only`
 * as a startup option) would not; the price is two round trips per autocommit statement.
 */
export const postgresReadOnly: ReadOnlySession = {
  options: (options: DataSourceOptions) => options,
  runner(queryRunner: QueryRunner, refused: (cause: unknown) => Error): QueryRunner {
    const query = queryRunner.query.bind(queryRunner);
    const startTransaction = queryRunner.startTransaction.bind(queryRunner);
    const translate = (error: unknown): never => {
      throw refusedWrite(error) ? refused(error) : error;
    };
    Object.assign(queryRunner, {
      async startTransaction(isolationLevel?: Parameters<QueryRunner["startTransaction"]>[0]) {
        const outermost = !queryRunner.isTransactionActive;
        await startTransaction(isolationLevel);
        if (outermost) await query("SET TRANSACTION READ ONLY");
      },
      async query(sql: string, parameters?: unknown[], structured?: boolean) {
        if (queryRunner.isTransactionActive) {
          return query(sql, parameters, structured as true).catch(translate);
        }
        await query("START TRANSACTION READ ONLY");
        try {
          const result = await query(sql, parameters, structured as true);
          await query("COMMIT");
          return result;
        } catch (error) {
          await query("ROLLBACK").catch(() => undefined);
          return translate(error);
        }
      },
    });
    return queryRunner;
  },
};
