import type { DataSourceOptions } from "typeorm";
import { dialectFor } from "../../dialects";
import { ConfigurationError } from "../../errors";
import type { TenantStrategy } from "./tenant-strategy";

/**
 * Gives every tenant a database of its own, with the options `options(tenant)` returns
 * (a file per tenant on SQLite, a database per tenant on PostgreSQL). Creating a tenant
 * creates its database (CREATE DATABASE; SQLite creates the file on first open); dropping it
 * drops the database.
 *
 * @example
 * ```ts
 * databasePerTenant((tenant) => ({ type: "better-sqlite3", database: `tenants/${tenant}.db` }))
 * ```
 */
export function databasePerTenant(options: (tenant: string) => DataSourceOptions): TenantStrategy {
  const strategy: TenantStrategy = Object.freeze({
    name: "database-per-tenant",
    async createStorage(tenant: string): Promise<void> {
      const tenantOptions = strategy.optionsFor(tenant);
      await dialectFor(tenantOptions).createDatabase(tenantOptions);
    },
    async dropStorage(tenant: string): Promise<void> {
      const tenantOptions = strategy.optionsFor(tenant);
      await dialectFor(tenantOptions).dropDatabase(tenantOptions);
    },
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
  return strategy;
}
