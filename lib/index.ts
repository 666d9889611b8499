export { External, RoutedTo, ReadOnly, Unmanaged, type UnmanagedOptions } from "../decorators";
export {
  TenantRouter,
  type TransactionOptions,
  type QueryOptions,
  type TenantAdmin,
  type VerifyOptions,
} from "./tenant-router";
export type {
  TenantRouterOptions,
  DatabaseConfig,
  DatabaseSettings,
  SingleDatabaseConfig,
  ReplicatedDatabaseConfig,
  TenantsConfig,
} from "./router-options";
export type { PoolOptions } from "./data-source-pool";
export type { DatabaseTarget } from "./database-target";
export type { DatabaseFilter } from "./database-selection";
export { withTenant, withPrimary, currentTenant, requireTenant } from "./tenant-context";
export { TENANT_ID_PATTERN, assertTenantId } from "./tenant-id";
export {
  tenantMiddleware,
  type TenantMiddleware,
  type TenantMiddlewareOptions,
} from "./tenant-middleware";
export { tenantsFromEntity, type TenantsFromEntityOptions } from "./tenants-from-entity";
export type { TenantList } from "./tenant-directory";
export type { TenantRegistration } from "./tenant-provisioner";
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
export { schemaPerTenant, type SchemaPerTenantOptions } from "./strategies/schema-per-tenant";
export type { TenantStrategy, BulkMigrationState } from "./strategies/tenant-strategy";
export { RoutedRepository } from "./routed-repository";
export { RoutedEntityManager } from "./routed-entity-manager";
export type { MigrateOptions, RevertOptions, StatusOptions } from "./migrations/migrator";
export type {
  MigrationReport,
  DatabaseMigrationResult,
  DatabaseOutcome,
  DatabaseLabel,
  MigrationName,
  MigrationProgress,
} from "./migrations/migration-report";
export type { DatabaseStatus, GroupStatus } from "./migrations/database-migrator";
export type { SchemaReport, SchemaDrift } from "./migrations/schema-verifier";
export type {
  GeneratedMigration,
  GeneratedQuery,
  GenerateMigrationOptions,
} from "./migrations/generate-migration";
export type {
  MigrationClass,
  MigrationSource,
  MigrationsOptions,
} from "./migrations/migration-set";
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
  UnknownMigrationError,
  type RoutingErrorCode,
  type BootstrapProblem,
} from "./errors";
