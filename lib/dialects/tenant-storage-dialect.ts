import type { DataSource, DataSourceOptions } from "typeorm";
import { findDialect } from "./dialect";
import type { TenantStorageDialect } from "./tenant-storage";
import { mysqlTenantStorage } from "./mysql/mysql-tenant-storage";
import { postgresTenantStorage } from "./postgres/postgres-tenant-storage";
import { sqliteTenantStorage } from "./sqlite/sqlite-tenant-storage";

export type { StorageOwnership, TenantStorageDialect } from "./tenant-storage";

const STORAGE_DIALECTS: readonly TenantStorageDialect[] = [
  postgresTenantStorage,
  sqliteTenantStorage,
  mysqlTenantStorage,
];

/**
 * The {@link TenantStorageDialect} of a driver.
 *
 * @throws ConfigurationError for a driver whose tenant databases the router cannot own yet.
 */
export function tenantStorageDialectFor(
  source: DataSource | DataSourceOptions,
): TenantStorageDialect {
  return findDialect(STORAGE_DIALECTS, source);
}
