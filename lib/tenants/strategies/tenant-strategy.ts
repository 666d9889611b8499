import type { DataSourceOptions, QueryRunner } from "typeorm";
import type { StorageContext } from "../owned-storage";

/** Applied migration names per tenant and migrations table, read in one go. */
export type BulkMigrationState = ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<string>>>;

/** Tenants that are schemas of one database, sharing one DataSource and one metadata set. */
export interface SharedDatabaseTenancy {
  /**
   * The options of the one DataSource every tenant shares; its metadata is built once, with
   * a placeholder schema that `scope` replaces per statement.
   */
  readonly options: DataSourceOptions;
  /** The schema (or other storage name) of `tenant`. */
  storageOf(tenant: string): string;
  /** Scopes a runner of the shared DataSource to `tenant`'s storage (see `scopeToSchema`). */
  scope(queryRunner: QueryRunner, tenant: string): QueryRunner;
  /** Guards a runner of the shared DataSource that no tenant scoped (see `refuseUnscoped`). */
  unscoped(queryRunner: QueryRunner): QueryRunner;
}

/**
 * How tenants map to databases. A strategy turns a (validated) tenant id into the options of
 * that tenant's DataSource; driver-specific strategies live in this folder only. The optional
 * hooks let a strategy share storage between tenants (schemas of one database).
 */
export interface TenantStrategy {
  /** A short description for messages, e.g. `database-per-tenant`. */
  readonly name: string;
  /**
   * Set when tenants share one database (schemas): a tenant is then a scope applied to that
   * database's connections, not a DataSource of its own.
   */
  readonly shared?: SharedDatabaseTenancy;
  /** The DataSource options of `tenant`'s database. Must not open connections. */
  optionsFor(tenant: string): DataSourceOptions;
  /**
   * Scopes an open transaction to `tenant` (e.g. `SET LOCAL search_path`), so that raw SQL
   * with unqualified names reaches the tenant. Transaction-scoped, so it never leaks to the
   * connection's next borrower (safe behind PgBouncer in transaction mode).
   */
  scopeTransaction?(tenant: string, queryRunner: QueryRunner): Promise<void>;
  /**
   * How `scopeTransaction` reaches the tenant, for messages: "<the tenant's database> is
   * <scopeDescription>", e.g. `a schema reached through SET LOCAL search_path`.
   */
  readonly scopeDescription?: string;
  /**
   * Creates the tenant's storage (e.g. its schema) atomically and marks it as the router's
   * (`tenantMark`). Default: create its database.
   *
   * @throws TenantExistsError when it exists (another create won); NameTooLongError or
   * ReservedStorageError, before anything runs, for a name the router must not create.
   */
  createStorage?(tenant: string, context?: StorageContext): Promise<void>;
  /**
   * Drops the tenant's storage, only if it carries the router's mark for that tenant.
   * Default: drop its database.
   *
   * @throws UnownedStorageError for unmarked storage; ReservedStorageError for a system or
   * alias name; nothing is dropped then.
   */
  dropStorage?(tenant: string, context?: StorageContext): Promise<void>;
  /**
   * `dropStorage` in two steps: every check now (the options, reserved names, the mark),
   * resolving the function that drops. `tenants.drop` runs the checks before it unregisters
   * the tenant (whose options may be read from its registration), and drops after.
   *
   * @throws the errors of `dropStorage`'s checks; nothing is dropped then.
   */
  prepareDropStorage?(tenant: string, context?: StorageContext): Promise<() => Promise<void>>;
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

/**
 * The options of a database that stands for every tenant when migrations are generated:
 * `tenant`'s options, minus a schema that differs between tenants (schema-per-tenant), so that
 * no tenant's schema is baked into the generated SQL. Tenant migrations run inside the
 * tenant's scope (`scopeTransaction`) instead.
 */
export function templateOptionsOf(strategy: TenantStrategy, tenant: string): DataSourceOptions {
  const schemaOf = (options: DataSourceOptions) => (options as { schema?: string }).schema;
  const options = strategy.optionsFor(tenant);
  const schema = schemaOf(options);
  const perTenant = schema !== undefined && schema !== schemaOf(strategy.optionsFor(`${tenant}2`));
  return perTenant ? ({ ...options, schema: undefined } as DataSourceOptions) : options;
}
