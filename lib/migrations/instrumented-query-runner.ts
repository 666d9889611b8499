import type { QueryRunner, Table } from "typeorm";

/** What {@link instrumentQueryRunner} reports. */
export interface QueryRunnerHooks {
  /** Called before a DDL helper runs, with the table it names; throw to refuse the call. */
  readonly beforeDdl?: (method: string, table: string) => void;
  /**
   * Called with every SQL statement sent through the runner; its parameters, if any, are
   * appended as TypeORM's logger shows them (`-- PARAMETERS: [...]`), so that a recorded
   * `INSERT ... VALUES ($1, $2)` still says what it inserts.
   */
  readonly onStatement?: (sql: string) => void;
}

// The QueryRunner helpers that change a table, each naming it in its first argument.
const DDL_METHODS = new Set([
  "createTable",
  "dropTable",
  "renameTable",
  "clearTable",
  "addColumn",
  "addColumns",
  "renameColumn",
  "changeColumn",
  "changeColumns",
  "dropColumn",
  "dropColumns",
  "createPrimaryKey",
  "updatePrimaryKeys",
  "dropPrimaryKey",
  "createUniqueConstraint",
  "createUniqueConstraints",
  "dropUniqueConstraint",
  "dropUniqueConstraints",
  "createCheckConstraint",
  "createCheckConstraints",
  "dropCheckConstraint",
  "dropCheckConstraints",
  "createExclusionConstraint",
  "createExclusionConstraints",
  "dropExclusionConstraint",
  "dropExclusionConstraints",
  "createForeignKey",
  "createForeignKeys",
  "dropForeignKey",
  "dropForeignKeys",
  "createIndex",
  "createIndices",
  "dropIndex",
  "dropIndices",
]);

// The statement as TypeORM's logger prints it: parameters in a trailing comment.
function withParameters(sql: string, parameters: unknown): string {
  if (!Array.isArray(parameters) || parameters.length === 0) return sql;
  let shown: string;
  try {
    shown = JSON.stringify(parameters, (_key, value: unknown) =>
      typeof value === "bigint" ? value.toString() : value,
    );
  } catch {
    shown = String(parameters);
  }
  return `${sql} -- PARAMETERS: ${shown}`;
}

/** The bare table name of a helper's first argument (`Table`, `"schema.table"` or `"table"`). */
export function tableNameOf(argument: unknown): string | undefined {
  const raw = typeof argument === "string" ? argument : (argument as Table | undefined)?.name;
  if (typeof raw !== "string") return undefined;
  return raw.split(".").pop()!.replace(/^"|"$/g, "");
}

/**
 * Wraps a QueryRunner so that DDL helpers are checked before they run and every statement is
 * reported. TypeORM's helpers call `this.query()` internally; since they run with the proxy
 * as `this`, the statements they generate are reported too.
 */
export function instrumentQueryRunner(
  queryRunner: QueryRunner,
  hooks: QueryRunnerHooks,
): QueryRunner {
  const proxy: QueryRunner = new Proxy(queryRunner, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || typeof property !== "string") return value;
      const method = value as (...args: unknown[]) => unknown;
      if (property === "query" && hooks.onStatement) {
        return (...args: unknown[]) => {
          hooks.onStatement!(withParameters(String(args[0]), args[1]));
          return method.apply(proxy, args);
        };
      }
      if (DDL_METHODS.has(property) && hooks.beforeDdl) {
        return (...args: unknown[]) => {
          const table = tableNameOf(args[0]);
          if (table !== undefined) hooks.beforeDdl!(property, table);
          return method.apply(proxy, args);
        };
      }
      return method;
    },
  });
  return proxy;
}
