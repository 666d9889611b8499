import type { DataSourceOptions, QueryRunner } from "typeorm";

/** Applied migration names per tenant and migrations table, read in one go. */
export type BulkMigrationState = ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<string>>>;

/**
 * How tenants map to databases. A strategy turns a (validated) tenant id into the options of
 * that tenant's DataSource; driver-specific strategies live in this folder only. The optional
 * hooks let a strategy share storage between tenants (schemas of one database).
 */
export interface TenantStrategy {
  /** A short description for messages, e.g. `database-per-tenant`. */
  readonly name: string;
  /** The DataSource options of `tenant`'s database. Must not open connections. */
  optionsFor(tenant: string): DataSourceOptions;
  /**
   * Scopes an open transaction to `tenant` (e.g. `SET LOCAL search_path`), so that raw SQL
   * with unqualified names reaches the tenant. Transaction-scoped, so it never leaks to the
   * connection's next borrower (safe behind PgBouncer in transaction mode).
   */
  scopeTransaction?(tenant: string, queryRunner: QueryRunner): Promise<void>;
  /** Creates the tenant's storage (e.g. its schema). Default: create its database. */
  createStorage?(tenant: string): Promise<void>;
  /** Drops the tenant's storage. Default: drop its database. */
  dropStorage?(tenant: string): Promise<void>;
  /**
   * Reads, in one round trip, the applied migrations of many tenants for the given
   * migrations tables: tenant → table → names. Tenants without the table are absent.
   */
  readMigrationState?(
    tenants: readonly string[],
    tables: readonly string[],
  ): Promise<BulkMigrationState>;
  /** Releases what the strategy holds (e.g. a shared connection pool). */
  close?(): Promise<void>;
}
