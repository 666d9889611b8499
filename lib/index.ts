export { External, RoutedTo, ReadOnly, Unmanaged, type UnmanagedOptions } from "../decorators";
export {
  TenantRouter,
  type TransactionOptions,
  type QueryOptions,
  type TenantAdmin,
} from "./tenant-router";
export type { TenantRouterOptions, DatabaseConfig, TenantsConfig } from "./router-options";
export type { PoolOptions } from "./data-source-pool";
export type { DatabaseTarget } from "./database-target";
export { withTenant, currentTenant, requireTenant } from "./tenant-context";
export { TENANT_ID_PATTERN, assertTenantId } from "./tenant-id";
export {
  tenantMiddleware,
  type TenantMiddleware,
  type TenantMiddlewareOptions,
} from "./tenant-middleware";
export { tenantsFromEntity, type TenantsFromEntityOptions } from "./tenants-from-entity";
export type { TenantList } from "./tenant-directory";
export {
  isTenantRef,
  type Router,
  type RoutingHints,
  type DatabaseRef,
  type TenantRef,
  type EntityClass,
  type Operation,
} from "./router-chain";
export type { Placement, EntitySource } from "./entity-registry";
export { databasePerTenant } from "./strategies/database-per-tenant";
export type { TenantStrategy } from "./strategies/tenant-strategy";
export { RoutedRepository } from "./routed-repository";
export { RoutedEntityManager } from "./routed-entity-manager";
export {
  RoutingError,
  BootstrapError,
  ConfigurationError,
  NoTenantContextError,
  UnknownTenantError,
  InvalidTenantIdError,
  UnknownDatabaseError,
  EntityNotDiscoveredError,
  ReadOnlyDatabaseError,
  CrossDatabaseTransactionError,
  UnroutableOperationError,
  RegistryFrozenError,
  DataSourceInitError,
  PoolExhaustedError,
  RouterClosedError,
  MigrationRoutingError,
  MigrationLockedError,
  MigrationFailedError,
  TenantExistsError,
  ConfirmationRequiredError,
  type RoutingErrorCode,
  type BootstrapProblem,
} from "./errors";
