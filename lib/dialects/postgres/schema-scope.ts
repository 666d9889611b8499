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

// Catalog reads (the schema builder, getTables, hasTable, current_schema()) return the
// tenant's schema name where the metadata says the placeholder: it is mapped back, in these
// results only, so that TypeORM matches live tables with the shared metadata.
const CATALOG = /\b(?:information_schema|pg_catalog|pg_[a-z_]+|current_schema)\b/i;

function unscopeRows(result: unknown, schema: string): unknown {
  const rows = Array.isArray(result)
    ? result
    : (result as { records?: unknown[] } | undefined)?.records;
  // The schema as a whole value, or qualifying a name (a default's nextval('<schema>.seq')).
  const qualified = new RegExp(`(^|[^A-Za-z0-9_$"])("?)${escapeRegExp(schema)}\\2(?=\\.|$)`, "g");
  for (const row of rows ?? []) {
    if (typeof row !== "object" || row === null) continue;
    const record = row as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const value = record[key];
      if (typeof value === "string" && value.includes(schema)) {
        record[key] = value.replace(qualified, `$1$2${SCHEMA_PLACEHOLDER}$2`);
      }
    }
  }
  return result;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Guards a runner of the DataSource shared by every tenant schema that no tenant scoped (one
 * reached through `metadata.dataSource` or `driver.connection`): a statement naming the
 * placeholder schema is refused instead of running unscoped.
 */
export function refuseUnscoped(queryRunner: QueryRunner): QueryRunner {
  const query: Query = queryRunner.query.bind(queryRunner);
  Object.assign(queryRunner, {
    query(sql: string, parameters?: unknown[], structured?: boolean) {
      if (!sql.includes(SCHEMA_PLACEHOLDER)) return query(sql, parameters, structured as true);
      return Promise.reject(
        UnroutableOperationError.unsupported(
          "a statement on the tenant schemas' shared connection outside any tenant",
          "Run it through the router (router.getRepository(Entity), router.manager, withTenant) so that it names its tenant's schema.",
        ),
      );
    },
  });
  return queryRunner;
}

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

  const run = async (sql: string, parameters?: unknown[], structured?: boolean) => {
    const result = await query(rewrite(sql), rewriteAll(parameters), structured as true);
    return CATALOG.test(sql) ? unscopeRows(result, schema) : result;
  };
  const scoped = async (sql: string, parameters?: unknown[], structured?: boolean) => {
    if (sql.includes(SCHEMA_PLACEHOLDER) || queryRunner.isTransactionActive) {
      return run(sql, parameters, structured);
    }
    await queryRunner.startTransaction();
    try {
      const result = await run(sql, parameters, structured);
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
