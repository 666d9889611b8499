import type { DataSourceOptions } from "typeorm";
import { ConfigurationError } from "../../errors";
import {
  NO_RESERVED_DATABASES,
  checkTenantDatabaseName,
  createTenantDatabase,
  dropTenantDatabase,
  prepareTenantDatabaseDrop,
} from "../owned-storage";
import type { TenantStrategy } from "./tenant-strategy";

/**
 * Gives every tenant a database of its own, with the options `options(tenant)` returns
 * (a file per tenant on SQLite, a database per tenant on PostgreSQL).
 *
 * - Creating a tenant creates its database atomically (`CREATE DATABASE`; an exclusive file
 *   create on SQLite), so of concurrent creates of one id exactly one wins, and marks it as
 *   the router's (`COMMENT ON DATABASE … IS 'typeorm-router tenant <id>'`; SQLite's
 *   `application_id`).
 * - Dropping a tenant drops its database only when it carries that mark, and never a server's
 *   own database or an alias's. On PostgreSQL it is `DROP DATABASE … WITH (FORCE)`: sessions
 *   still connected to it are terminated.
 *
 * @example
 * ```ts
 * databasePerTenant((tenant) => ({ type: "better-sqlite3", database: `tenants/${tenant}.db` }))
 * ```
 */
export function databasePerTenant(options: (tenant: string) => DataSourceOptions): TenantStrategy {
  const strategy: TenantStrategy = Object.freeze({
    name: "database-per-tenant",
    async createStorage(tenant: string, context = NO_RESERVED_DATABASES): Promise<void> {
      await createTenantDatabase(tenant, strategy.optionsFor(tenant), context);
    },
    async dropStorage(tenant: string, context = NO_RESERVED_DATABASES): Promise<void> {
      await dropTenantDatabase(tenant, strategy.optionsFor(tenant), context);
    },
    prepareDropStorage(tenant: string, context = NO_RESERVED_DATABASES) {
      return prepareTenantDatabaseDrop(tenant, strategy.optionsFor(tenant), context);
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
      // Routing too: a truncated name would reach another tenant's database.
      checkTenantDatabaseName(tenant, result);
      return result;
    },
  });
  return strategy;
}
