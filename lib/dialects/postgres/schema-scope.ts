import type { QueryRunner } from "typeorm";
import { UnroutableOperationError } from "../../errors";

/**
 * The schema that entity metadata shared by every tenant schema is built with. TypeORM bakes
 * a DataSource's `schema` into each table path (`"<schema>"."item"`); building it once with
 * this name, which no tenant id can produce (ids start with a letter or digit), lets one
 * metadata set serve every schema: a scoped runner swaps it for the tenant's schema in each
 * statement, much as Hibernate replaces `{h-schema}`.
 */
export const SCHEMA_PLACEHOLDER = "__typeorm_router_schema__";

type Query = QueryRunner["query"];

/**
 * Scopes `queryRunner` (a runner of the DataSource shared by every tenant schema) to `schema`:
 * - ORM statements name the placeholder schema: it is replaced, in the SQL and in string
 *   parameters (catalog lookups pass the schema as a value), so they run as one statement;
 * - every transaction starts with `SET LOCAL search_path TO "<schema>"`, so raw SQL with
 *   unqualified names reaches the tenant's schema and nothing else (no `public` after it: a
 *   table the schema lacks is an error, never another schema's table);
 * - raw SQL outside a transaction runs in a transaction of its own for that reason.
 * `SET LOCAL` ends with its transaction, so nothing leaks to the connection's next borrower,
 * with or without PgBouncer in transaction mode.
 */
export function scopeToSchema(queryRunner: QueryRunner, schema: string): QueryRunner {
  const query: Query = queryRunner.query.bind(queryRunner);
  const stream = queryRunner.stream.bind(queryRunner);
  const startTransaction = queryRunner.startTransaction.bind(queryRunner);
  const searchPath = `SET LOCAL search_path TO "${schema.replace(/"/g, '""')}"`;
  const rewrite = (sql: string): string =>
    sql.includes(SCHEMA_PLACEHOLDER) ? sql.replaceAll(SCHEMA_PLACEHOLDER, schema) : sql;
  const rewriteAll = (parameters: unknown[] | undefined): unknown[] | undefined =>
    parameters?.map((value) => (typeof value === "string" ? rewrite(value) : value));

  const scoped = async (sql: string, parameters?: unknown[], structured?: boolean) => {
    if (sql.includes(SCHEMA_PLACEHOLDER) || queryRunner.isTransactionActive) {
      return query(rewrite(sql), rewriteAll(parameters), structured as true);
    }
    await queryRunner.startTransaction();
    try {
      const result = await query(sql, rewriteAll(parameters), structured as true);
      await queryRunner.commitTransaction();
      return result;
    } catch (error) {
      if (queryRunner.isTransactionActive) {
        await queryRunner.rollbackTransaction().catch(() => undefined);
      }
      throw error;
    }
  };
  Object.assign(queryRunner, {
    query: scoped,
    async startTransaction(isolationLevel?: Parameters<QueryRunner["startTransaction"]>[0]) {
      const outermost = !queryRunner.isTransactionActive;
      await startTransaction(isolationLevel);
      if (outermost) await query(searchPath);
    },
    stream(sql: string, ...rest: unknown[]) {
      if (!sql.includes(SCHEMA_PLACEHOLDER) && !queryRunner.isTransactionActive) {
        return Promise.reject(
          UnroutableOperationError.unsupported(
            `streaming raw SQL on schema "${schema}" outside a transaction`,
            "Stream it inside router.transaction(), which scopes the connection to the schema, or stream a query builder.",
          ),
        );
      }
      const [parameters, ...callbacks] = rest as [unknown[] | undefined, ...never[]];
      return stream(rewrite(sql), rewriteAll(parameters), ...callbacks);
    },
  });
  return queryRunner;
}
