import type { DataSourceOptions } from "typeorm";

// The tenant storage contract, apart from the registry (tenant-storage-dialect.ts) that imports
// each driver's implementation: the drivers import only this file, so there is no cycle.

/** What a database carries, as {@link TenantStorageDialect.ownership} reads it. */
export type StorageOwnership =
  /** The database does not exist. */
  | { readonly state: "missing" }
  /** It carries the expected mark: the router created it for this tenant. */
  | { readonly state: "owned" }
  /** It exists without the expected mark (`found` is what it carries, if anything). */
  | { readonly state: "foreign"; readonly found: string | undefined };

/**
 * How a driver creates, recognises and drops the databases the router owns (one per tenant
 * with `databasePerTenant`): each one is created atomically (one winner across processes)
 * and marked, and only a marked database is ever dropped. Kept apart from {@link Dialect} so
 * a driver without it still migrates; tenant provisioning on it is then refused.
 */
export interface TenantStorageDialect {
  /** The TypeORM driver types served. */
  readonly types: readonly string[];
  /** The name the server keeps for the database `options` point at (for messages). */
  nameOf(options: DataSourceOptions): string;
  /**
   * Identifies the database `options` point at, so that two option objects naming the same
   * database (an alias's and a tenant's) compare equal: server and name, or a resolved path.
   */
  identityOf(options: DataSourceOptions): string;
  /** The server's own databases, never a tenant's (e.g. `postgres`, `template1`). */
  readonly systemDatabases: readonly string[];
  /**
   * The longest database name the server keeps, as `{ limit, length }` descriptions when
   * `name` exceeds it; `undefined` when it fits.
   */
  nameTooLong(name: string): { readonly length: string; readonly limit: string } | undefined;
  /**
   * Creates the database atomically and marks it with `mark`. Resolves `"exists"` (changing
   * nothing) when it exists already, whoever created it: the loser of a race learns it here.
   */
  createMarked(options: DataSourceOptions, mark: string): Promise<"created" | "exists">;
  /** Whether the database exists and carries `mark`. */
  ownership(options: DataSourceOptions, mark: string): Promise<StorageOwnership>;
  /** Drops the database, closing other sessions on it (PostgreSQL: `WITH (FORCE)`). */
  drop(options: DataSourceOptions): Promise<void>;
  /** How to mark an existing database by hand so the router owns it (for messages). */
  adoptHint(options: DataSourceOptions, mark: string): string;
}
