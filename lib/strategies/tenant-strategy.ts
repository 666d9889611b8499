import type { DataSourceOptions } from "typeorm";

/**
 * How tenants map to databases. A strategy turns a (validated) tenant id into the options of
 * that tenant's DataSource; driver-specific strategies live in this folder only.
 */
export interface TenantStrategy {
  /** A short description for messages, e.g. `database-per-tenant`. */
  readonly name: string;
  /** The DataSource options of `tenant`'s database. Must not open connections. */
  optionsFor(tenant: string): DataSourceOptions;
}
