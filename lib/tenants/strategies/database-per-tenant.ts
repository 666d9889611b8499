import type { DataSourceOptions } from "typeorm";
import { ConfigurationError } from "../../errors";
import type { TenantStrategy } from "./tenant-strategy";

/**
 * Gives every tenant a database of its own, with the options `options(tenant)` returns
 * (a file per tenant on SQLite, a database per tenant on PostgreSQL).
 *
 * @example
 * ```ts
 * databasePerTenant((tenant) => ({ type: "better-sqlite3", database: `tenants/${tenant}.db` }))
 * ```
 */
export function databasePerTenant(options: (tenant: string) => DataSourceOptions): TenantStrategy {
  return Object.freeze({
    name: "database-per-tenant",
    optionsFor(tenant: string): DataSourceOptions {
      let result: DataSourceOptions;
      try {
        result = options(tenant);
      } catch (cause) {
        throw ConfigurationError.callbackFailed(
          `tenants.options("${tenant}")`,
          cause,
          "Make it return options for any valid tenant id without opening connections.",
        );
      }
      if (!result || typeof result !== "object" || typeof result.type !== "string") {
        throw ConfigurationError.invalid(
          `tenants.options("${tenant}")`,
          `it returned ${JSON.stringify(result)}`,
          `Return TypeORM DataSourceOptions with a "type", e.g. { type: "better-sqlite3", database: \`tenants/\${tenant}.db\` }.`,
        );
      }
      return result;
    },
  });
}
