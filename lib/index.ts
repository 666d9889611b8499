export {
  External,
  RoutedTo,
  ReadOnly,
  Unmanaged,
  type UnmanagedOptions,
  type PlacementDecorator,
} from "../decorators";
export {
  TenantRouter,
  type TransactionOptions,
  type QueryOptions,
  type TenantAdmin,
  type VerifyOptions,
  type TenantRouterOptions,
  type TenantsConfig,
  type TenantList,
  type TenantRegistration,
} from "./tenant-router";
export type {
  DatabaseConfig,
  DatabaseSettings,
  SingleDatabaseConfig,
  ReplicatedDatabaseConfig,
} from "./config/router-options";
export type { PoolOptions } from "./pool/data-source-pool";
export type { DatabaseTarget } from "./routing/database-target";
export type { DatabaseFilter } from "./routing/database-selection";
export { withTenant, withPrimary, currentTenant, requireTenant } from "./context/tenant-context";
export { TENANT_ID_PATTERN, assertTenantId } from "./context/tenant-id";
export {
  tenantMiddleware,
  type TenantMiddleware,
  type TenantMiddlewareOptions,
} from "./context/tenant-middleware";
export { tenantsFromEntity, type TenantsFromEntityOptions } from "./tenants/tenants-from-entity";
export type { DropTenantOptions } from "./tenants/tenant-provisioner";
export {
  isTenantRef,
  type Router,
  type RoutingHints,
  type DatabaseRef,
  type TenantRef,
  type EntityClass,
  type RoutableEntity,
  type Operation,
} from "./routing/router-chain";
export type { Placement, EntitySource, PlacementOption } from "./registry/entity-registry";
export { databasePerTenant } from "./tenants/strategies/database-per-tenant";
export {
  schemaPerTenant,
  type SchemaPerTenantOptions,
} from "./tenants/strategies/schema-per-tenant";
export type { TenantStrategy, BulkMigrationState } from "./tenants/strategies/tenant-strategy";
export { RoutedRepository } from "./routed/routed-repository";
export { RoutedEntityManager } from "./routed/routed-entity-manager";
export type { MigrateOptions, RevertOptions, StatusOptions } from "./migrations/migrator";
export type {
  MigrationReport,
  DatabaseMigrationResult,
  DatabaseOutcome,
  DatabaseLabel,
  MigrationName,
  MigrationProgress,
  GroupReport,
} from "./migrations/migration-report";
export type { MigrationClaim } from "./migrations/migration-claims";
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
export type { RouterLogger, LogRecord, LogLevel, LogChannel } from "./observability/router-logger";
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
  DatabaseUnavailableError,
  PoolExhaustedError,
  RouterClosedError,
  MigrationRoutingError,
  MigrationLockedError,
  MigrationFailedError,
  TenantExistsError,
  ConfirmationRequiredError,
  UnknownMigrationError,
  ReservedStorageError,
  UnownedStorageError,
  NameTooLongError,
  MigrationInterruptedError,
  type MigrationCommand,
  type RoutingErrorCode,
  type BootstrapProblem,
} from "./errors";
