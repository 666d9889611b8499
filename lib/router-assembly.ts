import type { DataSource, QueryRunner } from "typeorm";
import { tenantTarget, type DatabaseTarget } from "./routing/database-target";
import { databasePerTenant } from "./tenants/strategies/database-per-tenant";
import type { TenantStrategy } from "./tenants/strategies/tenant-strategy";
import { destroyDataSource } from "./dialects";
import { DataSourceFactory } from "./pool/data-source-factory";
import { SharedSubscribers } from "./pool/shared-subscribers";
import { DataSourcePool } from "./pool/data-source-pool";
import { DatabaseResolver } from "./routing/database-resolver";
import { DatabaseSelection } from "./routing/database-selection";
import { DecoratorRouter } from "./routing/decorator-router";
import { EntityRegistry, TENANT_GROUP, type Placement } from "./registry/entity-registry";
import { BootstrapError, ConfigurationError, messageOf, type BootstrapProblem } from "./errors";
import { MigrationSets } from "./migrations/migration-set";
import { Migrator } from "./migrations/migrator";
import { OperationRunner } from "./routed/operation-runner";
import { makeRoutingDataSource } from "./routed/routing-data-source";
import { keyCacheBy } from "./pool/tenant-keyed-cache";
import { span } from "./observability/tracing";
import { routingContext } from "./context/tenant-context";
import { RouterChain } from "./routing/router-chain";
import type { NormalizedOptions } from "./config/router-options";
import {
  createTemporarySqliteFolder,
  type TemporarySqliteFolder,
} from "./dialects/sqlite/temporary-sqlite";
import { TenantDirectory } from "./tenants/tenant-directory";
import { TenantProvisioner, type TenantStorage } from "./tenants/tenant-provisioner";
import type { StorageContext } from "./tenants/owned-storage";

/** The collaborators a TenantRouter (`R`) is made of. */
export interface RouterParts<R> {
  readonly options: NormalizedOptions<R>;
  readonly registry: EntityRegistry;
  readonly pool: DataSourcePool;
  readonly resolver: DatabaseResolver;
  readonly runner: OperationRunner;
  readonly selection: DatabaseSelection;
  readonly migrator: Migrator;
  readonly directory: TenantDirectory<R> | undefined;
  readonly provisioner: TenantProvisioner<R> | undefined;
  /** The subscriber instances of every DataSource of the router. */
  readonly subscribers: SharedSubscribers;
  /** The migrations of every group. */
  readonly migrationSets: MigrationSets;
  readonly testFolder: TemporarySqliteFolder | undefined;
  /** How to scope a transaction on a target to its tenant (schema-per-tenant), if needed. */
  readonly scopeFor: (
    target: DatabaseTarget,
  ) => ((queryRunner: QueryRunner) => Promise<void>) | undefined;
  /** Releases what the tenant strategy holds (its shared pool). */
  readonly closeStrategy: () => Promise<void>;
}

/**
 * Discovers and validates entities and migrations (one `BootstrapError` for every problem),
 * then builds the router's collaborators. Nothing connects here.
 */
export async function assembleRouter<R>(
  options: NormalizedOptions<R>,
  router: () => R,
): Promise<RouterParts<R>> {
  const problems: BootstrapProblem[] = [];
  const sets = await MigrationSets.load(options.migrations, options.cwd, problems);
  checkGroups(sets, options, problems);
  const customRouters = new RouterChain(options.routers);
  const discovery = await EntityRegistry.discover({
    entities: options.entities,
    placements: options.placements,
    aliases: [...options.databases.keys()],
    undiscoveredEntities: options.undiscoveredEntities,
    cwd: options.cwd,
    allowRelation: (a, b) =>
      customRouters.allowRelation(a, b, {
        tenant: undefined,
        operation: "relation",
        testMode: options.testMode,
      }),
  });
  if (!discovery.ok || problems.length > 0) {
    if (discovery.ok) discovery.registry.release();
    throw BootstrapError.fromProblems([...(discovery.ok ? [] : discovery.problems), ...problems]);
  }
  const { registry } = discovery;
  let testFolder: TemporarySqliteFolder | undefined;
  try {
    checkTenantsConfigured(registry, options);
    testFolder = options.testMode ? await createTemporarySqliteFolder() : undefined;
    // The factory migrates test databases through the migrator, which needs the pool.
    const late: { migrator?: Migrator } = {};
    const subscribers = new SharedSubscribers();
    const factory = new DataSourceFactory({
      options,
      registry,
      subscribers,
      testFolder,
      migrateTestDatabase: async (target, dataSource) => {
        if (!late.migrator!.hasGroupsFor(target)) return false;
        const result = await late.migrator!.migrateDataSource(target, dataSource);
        if (result.error) throw result.error;
        return true;
      },
    });
    const blueprints = await buildBlueprints(factory, registry, options);
    registry.indexTables(
      [...blueprints.values()].flatMap((blueprint) => blueprint.entityMetadatas),
    );
    const directory = options.tenants
      ? new TenantDirectory({
          list: options.tenants.list,
          router,
          refreshIntervalMs: options.tenants.refreshIntervalMs,
          log: options.log,
        })
      : undefined;
    const pool = new DataSourcePool({
      ...options.pool,
      log: options.log.pool,
      open: (target) => {
        const tenant = target.kind === "tenant" ? target.name : undefined;
        const startedAt = Date.now();
        return span("typeorm_router.tenant.open", { tenant, database: target.key }, async () => {
          if (tenant !== undefined) await directory!.assertKnown(tenant);
          const dataSource = await factory.open(target);
          if (options.log.pool.debugEnabled) {
            options.log.pool.debug(`opened ${target.description}`, {
              tenant,
              database: target.key,
              durationMs: Date.now() - startedAt,
            });
          }
          return dataSource;
        });
      },
      // A known tenant of a shared database opens as a view, with nothing to await (and no
      // span: nothing happens but making an object); anything else opens above.
      openNow: (target) => {
        if (target.kind !== "tenant" || !directory?.isKnownNow(target.name)) return undefined;
        const dataSource = factory.openNow(target);
        if (dataSource && options.log.pool.debugEnabled) {
          options.log.pool.debug(`opened ${target.description}`, {
            tenant: target.name,
            database: target.key,
            durationMs: 0,
          });
        }
        return dataSource;
      },
      holdsNothing: (dataSource) => factory.holdsNothing(dataSource),
      close: destroyDataSource,
    });
    const chain = new RouterChain([...options.routers, new DecoratorRouter(registry)]);
    const resolver = new DatabaseResolver({
      chain,
      databases: options.databases,
      tenantsConfigured: options.tenants !== undefined,
      testMode: options.testMode,
    });
    const selection = new DatabaseSelection(resolver, directory);
    // Strategy hooks serve the real tenants only; test databases are plain databases.
    const strategy = options.testMode ? undefined : options.tenants?.strategy;
    const scopeFor = (target: DatabaseTarget) => {
      const scope = strategy?.scopeTransaction?.bind(strategy);
      if (!scope || target.kind !== "tenant") return undefined;
      return (queryRunner: QueryRunner) => scope(target.name, queryRunner);
    };
    const migrator = new Migrator({
      sets,
      tablePrefix: options.migrationsTablePrefix,
      selection,
      pool,
      chain,
      tableOwners: tableOwnersOf(blueprints, registry),
      testMode: options.testMode,
      readMigrationState: strategy?.readMigrationState?.bind(strategy),
      scopeFor,
      scopeDescription: strategy?.scopeDescription,
      log: options.log,
    });
    late.migrator = migrator;
    const provisioner =
      directory && options.tenants
        ? new TenantProvisioner({
            directory,
            factory,
            pool,
            migrator,
            registration: options.tenants.registration,
            router,
            log: options.log,
            storage: tenantStorage(factory, strategy, reservedDatabasesOf(options)),
          })
        : undefined;
    const runner = new OperationRunner({
      registry,
      resolver,
      pool,
      blueprints,
      testMode: options.testMode,
      translateError: directory && translateTenantError(directory, pool),
      log: options.log.route,
    });
    for (const [group, blueprint] of blueprints) {
      makeRoutingDataSource(blueprint, runner.binderFor(group));
      // Builders of a group serve every tenant: their cache entries carry the tenant.
      keyCacheBy(blueprint, () => routingContext()?.tenant);
    }
    return {
      options,
      registry,
      pool,
      resolver,
      runner,
      selection,
      migrator,
      directory,
      provisioner,
      subscribers,
      migrationSets: sets,
      testFolder,
      scopeFor,
      closeStrategy: async () => options.tenants?.strategy.close?.(),
    };
  } catch (error) {
    registry.release();
    await testFolder?.remove();
    throw error;
  }
}

// A tenant's storage: the strategy's (a schema, a database) when it has one; otherwise (test
// databases, strategies without storage hooks) a database of its own.
function tenantStorage(
  factory: DataSourceFactory,
  strategy: TenantStrategy | undefined,
  context: StorageContext,
): TenantStorage {
  const ownDatabase = databasePerTenant((tenant) => factory.optionsFor(tenantTarget(tenant)));
  return {
    create: (tenant) =>
      (strategy?.createStorage ? strategy : ownDatabase).createStorage!(tenant, context),
    prepareDrop: async (tenant) => {
      const owner = strategy?.dropStorage ? strategy : ownDatabase;
      if (owner.prepareDropStorage) return owner.prepareDropStorage(tenant, context);
      return () => owner.dropStorage!(tenant, context);
    },
  };
}

// A driver error from a tenant the directory no longer lists (dropped, maybe by another
// process) becomes UnknownTenantError, and its DataSource leaves the pool: later calls go
// through the directory again. Not awaited: eviction waits for the calls in flight, this one
// included.
function translateTenantError<R>(
  directory: TenantDirectory<R>,
  pool: DataSourcePool,
): (target: DatabaseTarget, error: unknown) => Promise<unknown> {
  return async (target, error) => {
    const translated = await directory.translate(target.name, error);
    if (translated) void pool.evict(target).catch(() => undefined);
    return translated;
  };
}

// Every alias database (primaries, replicas, test copies): never a tenant's to create or drop.
function reservedDatabasesOf(options: NormalizedOptions): StorageContext {
  const reserved = [...options.databases.values()].flatMap((database) => [
    database.options,
    ...database.replicas,
    ...(database.testOptions ? [database.testOptions] : []),
  ]);
  return Object.freeze({ reservedDatabases: Object.freeze(reserved) });
}

// Without custom routers, a group can only be "tenant" or an alias, or it would run nowhere.
function checkGroups(
  sets: MigrationSets,
  options: NormalizedOptions,
  problems: BootstrapProblem[],
): void {
  if (options.routers.length > 0) return;
  for (const group of sets.groups) {
    if (group === TENANT_GROUP || options.databases.has(group)) continue;
    problems.push({
      kind: "invalid-migration",
      message:
        `Migration group "${group}" matches no database: it is neither "${TENANT_GROUP}" nor a ` +
        `configured alias (${[...options.databases.keys()].map((a) => `"${a}"`).join(", ")}), and no ` +
        `router's allowMigrate() places it. Rename the group or add a router.`,
    });
  }
}

function checkTenantsConfigured(registry: EntityRegistry, options: NormalizedOptions): void {
  const external = registry.placements.filter((placement) => placement.external);
  if (external.length === 0 || options.tenants) return;
  throw ConfigurationError.invalid(
    "tenants",
    `entities ${external.map((p) => `"${p.name}"`).join(", ")} are @External but no tenants are configured`,
    "Add tenants: { list, options } to TenantRouter.create.",
  );
}

async function buildBlueprints(
  factory: DataSourceFactory,
  registry: EntityRegistry,
  options: NormalizedOptions,
): Promise<Map<string, DataSource>> {
  const groups = new Set(registry.placements.map((placement) => placement.group));
  // With no entity at all, one blueprint still serves what names none (raw SQL, builders on
  // raw tables, the DataSource facade): the tenants', else default's.
  if (groups.size === 0) groups.add(options.tenants ? TENANT_GROUP : "default");
  const blueprints = new Map<string, DataSource>();
  const problems: BootstrapProblem[] = [];
  for (const group of groups) {
    if (group === TENANT_GROUP && !options.tenants) continue;
    try {
      blueprints.set(group, await factory.blueprint(group));
    } catch (cause) {
      if (cause instanceof ConfigurationError) throw cause;
      problems.push({
        kind: "invalid-metadata",
        message: `TypeORM rejected the entities of ${group === TENANT_GROUP ? "the tenant databases" : `database "${group}"`}: ${messageOf(cause)}. Fix the entity definitions for that driver.`,
        cause,
      });
    }
  }
  if (problems.length > 0) throw BootstrapError.fromProblems(problems);
  return blueprints;
}

// Which entity owns each table name, for the migration DDL guard.
function tableOwnersOf(
  blueprints: ReadonlyMap<string, DataSource>,
  registry: EntityRegistry,
): Map<string, Placement> {
  const owners = new Map<string, Placement>();
  for (const [group, blueprint] of blueprints) {
    for (const metadata of blueprint.entityMetadatas) {
      // Junction tables (target "") follow no placement of their own.
      const placement = registry.find(metadata.target);
      if (!placement) continue;
      if (placement.group === group) owners.set(metadata.tableName, placement);
    }
  }
  return owners;
}
