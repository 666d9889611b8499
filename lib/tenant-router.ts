import type {
  DataSource,
  EntityManager,
  EntityTarget,
  ObjectLiteral,
  Repository,
  TreeRepository,
} from "typeorm";
import type { IsolationLevel } from "typeorm/driver/types/IsolationLevel";
import type { Placement } from "./registry/entity-registry";
import { ConfigurationError, NoTenantContextError, RouterClosedError, messageOf } from "./errors";
import type { DatabaseMigrationResult, MigrationReport } from "./migrations/migration-report";
import type { DatabaseStatus } from "./migrations/database-migrator";
import {
  generateMigration,
  type GeneratedMigration,
  type GenerateMigrationOptions,
} from "./migrations/generate-migration";
import type { MigrateOptions, RevertOptions, StatusOptions } from "./migrations/migrator";
import { verifySchemas, type SchemaReport } from "./migrations/schema-verifier";
import type { DropTenantOptions } from "./tenants/tenant-provisioner";
import { RoutedEntityManager } from "./routed/routed-entity-manager";
import { ContextMigrations } from "./migrations/context-migrations";
import { RoutedRepository } from "./routed/routed-repository";
import { routeActiveRecord } from "./routed/active-record";
import { assembleRouter, type RouterParts } from "./router-assembly";
import type { DatabaseRef, EntityClass, Operation } from "./routing/router-chain";
import {
  normalizeOptions,
  type RouterOptionsOf,
  type TenantListOf,
  type TenantRegistrationOf,
  type TenantsConfigOf,
} from "./config/router-options";
import type { DatabaseFilter } from "./routing/database-selection";
import { currentTenant, routingContext, runInTransaction } from "./context/tenant-context";
import { TransactionScope } from "./context/transaction-scope";

/** The options of `TenantRouter.create`. */
export type TenantRouterOptions = RouterOptionsOf<TenantRouter>;

/** How tenants are known and where their databases are. Give `options` or `strategy`. */
export type TenantsConfig = TenantsConfigOf<TenantRouter>;

/**
 * How tenants are known: a static list, or a function (sync or async) that lists them, given
 * the router so it can read a table in `default` (see `tenantsFromEntity`).
 */
export type TenantList = TenantListOf<TenantRouter>;

/** Persists tenants created or dropped through the router (see `tenantsFromEntity`). */
export type TenantRegistration = TenantRegistrationOf<TenantRouter>;

/** Options of `router.transaction(options, fn)`. */
export interface TransactionOptions {
  /** Pin the transaction to this database up front instead of at its first operation. */
  readonly target?: DatabaseRef;
  /** The isolation level of the transaction. */
  readonly isolationLevel?: IsolationLevel;
}

/** Options of `router.query(target, sql, parameters, options)`. */
export interface QueryOptions {
  /**
   * `"write"` (default) is refused on read-only databases outside test mode; declare
   * `"read"` for a statement that only reads.
   */
  readonly operation?: Operation;
}

/** What `router.tenants` offers. */
export interface TenantAdmin {
  /** Every known tenant, read afresh from `tenants.list`, sorted. */
  list(): Promise<string[]>;
  /**
   * Creates a tenant: validates the id, creates its database, runs the tenant migrations and
   * registers it (`tenants.register`). A failure midway undoes every step.
   *
   * @throws InvalidTenantIdError, TenantExistsError, or the failed migration's error.
   */
  create(tenant: string): Promise<DatabaseMigrationResult>;
  /**
   * Drops a tenant: refuses new work on it at once, drains the work in flight (up to
   * `drainTimeoutMs`, default 10 s), unregisters it, then drops its database or schema, only
   * if the router created it. Needs `{ confirm: tenant }`.
   *
   * @throws ConfirmationRequiredError without the confirmation; UnknownTenantError;
   * ReservedStorageError or UnownedStorageError (nothing dropped).
   */
  drop(
    tenant: string,
    options: { readonly confirm: string } & Omit<DropTenantOptions, "confirm">,
  ): Promise<void>;
}

/** Options of `router.verifySchema()`. */
export interface VerifyOptions extends DatabaseFilter {
  /** Databases inspected at once. Default 4. */
  readonly concurrency?: number;
}

/**
 * Routes every TypeORM read, write and transaction to the right database: `default`, a
 * named alias, or the database of the tenant in context (see `withTenant`).
 *
 * Create it once at bootstrap with {@link TenantRouter.create}; it discovers and verifies
 * every entity eagerly, then opens DataSources on demand.
 */
export class TenantRouter {
  /** A routed EntityManager: every call goes where the entity it names is placed. */
  readonly manager: EntityManager;
  /** Whether the router runs in test mode (test databases; read-only writes allowed). */
  readonly testMode: boolean;
  /** The tenants this router knows. */
  readonly tenants: TenantAdmin;

  /** The options this router was created with (e.g. to build test databases from them). */
  get options(): TenantRouterOptions {
    return this.#parts.options.source;
  }

  readonly #parts: RouterParts<TenantRouter>;
  readonly #repositories = new Map<unknown, Repository<ObjectLiteral>>();
  readonly #unrouteActiveRecord: () => void;
  #closed = false;

  private constructor(parts: RouterParts<TenantRouter>) {
    this.#parts = parts;
    this.testMode = parts.options.testMode;
    this.manager = new RoutedEntityManager(parts.runner, {
      dataSource: {
        isOpen: () => !this.#closed,
        close: () => this.close(),
        migrations: new ContextMigrations(parts.migrator, parts.migrationSets),
        inTenantDatabase: async (method, fn) => {
          const tenant = currentTenant();
          if (tenant === undefined) throw NoTenantContextError.forDataSource(method);
          const target = parts.resolver.target({ tenant }, `dataSource.${method}()`);
          return parts.pool.use(target, fn);
        },
      },
      getRepository: (target) => this.getRepository(target),
      transaction: (options, fn) => this.transaction(options, fn),
    });
    parts.subscribers.reportEventsOn(() => this.manager.connection);
    const provisioner = () => {
      if (parts.provisioner) return parts.provisioner;
      throw ConfigurationError.invalid(
        "tenants",
        "no tenants are configured",
        "Add tenants: { list, options } to TenantRouter.create.",
      );
    };
    this.#unrouteActiveRecord = routeActiveRecord({
      entities: parts.registry.placements.map((placement) => placement.entity),
      dataSourceOf: (entity) => parts.runner.routingDataSource(entity),
      getRepository: (target) => this.getRepository(target),
    });
    this.tenants = Object.freeze({
      list: async () => (parts.directory ? parts.directory.list() : []),
      create: async (tenant: string) => {
        this.#assertOpen("create a tenant");
        return provisioner().create(tenant);
      },
      drop: async (
        tenant: string,
        options: { readonly confirm: string } & Omit<DropTenantOptions, "confirm">,
      ) => {
        this.#assertOpen("drop a tenant");
        return provisioner().drop(tenant, options);
      },
    });
  }

  /**
   * Discovers and validates every entity (globs are imported now, not lazily), then builds
   * the router. Nothing is connected until the first routed call.
   *
   * @throws ConfigurationError for invalid options.
   * @throws BootstrapError listing every entity and routing problem found.
   */
  static async create(options: TenantRouterOptions): Promise<TenantRouter> {
    const normalized = normalizeOptions(options);
    const built: { router?: TenantRouter } = {};
    const parts = await assembleRouter(normalized, () => built.router!);
    try {
      built.router = new TenantRouter(parts);
    } catch (error) {
      // Nothing is connected yet; what bootstrap holds must not outlive the failed create
      // (a frozen registry would refuse the next router's decorators).
      parts.registry.release();
      await parts.testFolder?.remove();
      throw error;
    }
    return built.router;
  }

  /**
   * The routed repository of `entity`: one stable object per entity that routes each call.
   * `entity` is found as TypeORM's `getRepository` finds it: a class, an `EntitySchema`, an
   * entity name, or a table name (`"schema.table"` for a table path).
   *
   * @throws EntityNotDiscoveredError when `entity` was not discovered at bootstrap.
   */
  getRepository<T extends ObjectLiteral>(entity: EntityTarget<T>): RoutedRepository<T> {
    this.#assertOpen("getRepository()");
    let repository = this.#repositories.get(entity);
    if (!repository) {
      this.#parts.registry.placementOf(entity);
      repository = new RoutedRepository(
        entity as EntityTarget<ObjectLiteral>,
        this.manager as RoutedEntityManager,
      );
      this.#repositories.set(entity, repository);
    }
    return repository as RoutedRepository<T>;
  }

  /**
   * The tree repository of `entity` (`@Tree("closure-table" | "materialized-path" |
   * "nested-set")`): one stable object whose statements route when they run, like every
   * query builder (the tenant in context for an `@External` tree).
   *
   * @throws EntityNotDiscoveredError when `entity` was not discovered.
   */
  getTreeRepository<T extends ObjectLiteral>(entity: EntityTarget<T>): TreeRepository<T> {
    this.#assertOpen("getTreeRepository()");
    return this.manager.getTreeRepository(entity);
  }

  /**
   * Runs `fn` in one transaction on one connection. The transaction is pinned to the
   * database of its first operation (or `options.target`); touching another database
   * inside it throws `CrossDatabaseTransactionError`. It commits when `fn` resolves and rolls
   * back when it throws. Repositories obtained anywhere follow it while `fn` runs. A nested
   * call runs as a savepoint.
   */
  transaction<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T>;
  transaction<T>(
    options: TransactionOptions,
    fn: (manager: EntityManager) => Promise<T>,
  ): Promise<T>;
  transaction<T>(
    optionsOrFn: TransactionOptions | ((manager: EntityManager) => Promise<T>),
    maybeFn?: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    try {
      this.#assertOpen("run a transaction");
      const options = typeof optionsOrFn === "function" ? {} : optionsOrFn;
      const fn = typeof optionsOrFn === "function" ? optionsOrFn : maybeFn;
      if (typeof fn !== "function") {
        throw ConfigurationError.invalid(
          "router.transaction()",
          "no callback was given",
          "Pass router.transaction(async (manager) => { ... }).",
        );
      }
      const { pool, runner, scopeFor } = this.#parts;
      runner.assertIsolationLevel(options.isolationLevel);
      const scope = new TransactionScope(routingContext()?.transaction, {
        pool,
        scopeFor,
        isolationLevel: options.isolationLevel,
      });
      return runInTransaction(scope, () => this.#runTransaction(scope, options, fn));
    } catch (error) {
      // Every failure a rejected promise, as from an async function.
      return Promise.reject(error);
    }
  }

  // Runs `fn` in `scope`, then commits (or rolls back when it throws).
  async #runTransaction<T>(
    scope: TransactionScope,
    options: TransactionOptions,
    fn: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    const { resolver, runner } = this.#parts;
    const manager = (this.manager as RoutedEntityManager).forTransaction();
    let result: T;
    try {
      if (options.target !== undefined) {
        const target = resolver.target(options.target, "router.transaction({ target })");
        await scope
          .managerFor(target, "router.transaction({ target })")
          .catch(async (error: unknown) => {
            throw await runner.translate(target, error);
          });
      }
      result = await fn(manager);
    } catch (error) {
      await scope.finish(true).catch((rollbackError: unknown) => {
        this.#parts.options.log.route.warn(
          "TYPEORM_ROUTER_ROLLBACK_FAILED",
          `rolling back a transaction failed: ${messageOf(rollbackError)}`,
          { tenant: currentTenant() },
        );
      });
      throw await this.#translated(scope, error);
    }
    try {
      await scope.finish(false);
    } catch (error) {
      // The commit's own failure: the database's, never user code's.
      throw scope.pinnedTarget ? await runner.translate(scope.pinnedTarget, error) : error;
    }
    return result;
  }

  /**
   * The escape hatch: a DataSource whose every statement goes to the database that
   * `operation` on `entity` routes to in the current context (inside the current transaction
   * when there is one), with the entity metadata of its placement. It holds no connection:
   * each of its query runners holds the database open while it works, so it can be kept and
   * used after that database was evicted (it reopens it).
   *
   * @throws the same routing errors as a routed call (and `ReadOnlyDatabaseError` for writes).
   */
  async dataSourceFor(
    entity: EntityTarget<ObjectLiteral>,
    options: { readonly operation?: Operation } = {},
  ): Promise<DataSource> {
    this.#assertOpen("dataSourceFor()");
    const target = this.#parts.runner.route(
      entity as EntityClass | string,
      options.operation ?? "read",
      undefined,
      "dataSourceFor",
    );
    return this.#parts.runner.targetDataSource(target);
  }

  /**
   * The escape hatch for an explicit database, an alias (`"default"`) or `{ tenant: "acme" }`:
   * a DataSource whose every statement goes there (inside the current transaction when there
   * is one), with that database's own entity metadata, for code that names no entity
   * (`dataSource.query()`, `createQueryRunner()`, `driver`). Like {@link dataSourceFor}, it
   * holds no connection and may be kept.
   *
   * @throws UnknownDatabaseError, InvalidTenantIdError or UnknownTenantError for a bad target.
   */
  async dataSourceOf(target: DatabaseRef): Promise<DataSource> {
    this.#assertOpen("dataSourceOf()");
    const resolved = this.#parts.resolver.target(target, "router.dataSourceOf()");
    return this.#parts.runner.targetDataSource(resolved);
  }

  /**
   * Runs raw SQL on an explicit database: an alias (`"default"`) or `{ tenant: "acme" }`.
   * Inside `router.transaction()` it runs on the transaction's connection.
   *
   * @throws ReadOnlyDatabaseError for a write (the default) to a read-only alias.
   * @throws UnknownDatabaseError, InvalidTenantIdError or UnknownTenantError for a bad target.
   */
  async query<R = unknown>(
    target: DatabaseRef,
    sql: string,
    parameters?: unknown[],
    options: QueryOptions = {},
  ): Promise<R> {
    this.#assertOpen("query()");
    const { resolver, runner } = this.#parts;
    const operation = options.operation ?? "write";
    const primary = resolver.target(target, "router.query()");
    if (operation === "write") runner.assertWritable(primary, "a raw SQL statement");
    const resolved = runner.replicaOrPrimary(primary, operation);
    const scope = this.#parts.scopeFor(resolved);
    return runner.runOn(resolved, "query", (manager) =>
      scope && !manager.queryRunner?.isTransactionActive
        ? // Unqualified names must reach the tenant's schema: SET LOCAL needs a transaction.
          manager.transaction(async (scoped) => {
            await scope(scoped.queryRunner!);
            return scoped.query<R>(sql, parameters);
          })
        : manager.query<R>(sql, parameters),
    );
  }

  /**
   * Migrates every database according to the routing rules: `default`, then the other
   * aliases, then the tenants (bounded concurrency). Each database takes its migration lock
   * (a PostgreSQL advisory lock), and each group records what ran in its own table, only
   * where it ran. Resolves with one entry per database; one database's failure never stops
   * or corrupts the others, and never makes this reject.
   *
   * @throws ConfigurationError for invalid options; UnknownDatabaseError or
   * UnknownTenantError for a name in `databases` / `tenants` that does not exist.
   */
  migrate(options: MigrateOptions = {}): Promise<MigrationReport> {
    this.#assertOpen("migrate");
    return this.#parts.migrator.migrate(options);
  }

  /** Applied, pending and unknown migrations per database and group. */
  migrationStatus(options: StatusOptions = {}): Promise<DatabaseStatus[]> {
    this.#assertOpen("read migration status");
    return this.#parts.migrator.status(options);
  }

  /**
   * Reverts the newest `steps` migrations (default 1), or every migration after `to`, on one
   * database (`{ database }` or `{ tenant }`). Resolves with that database's result.
   *
   * @throws ConfigurationError for invalid options.
   */
  revert(options: RevertOptions): Promise<DatabaseMigrationResult> {
    this.#assertOpen("revert");
    return this.#parts.migrator.revert(options);
  }

  /**
   * Compares, for each database, the entities placed there with its live schema: missing
   * tables, columns and indexes, and the schema builder's pending changes. This is what
   * catches a migration recorded as applied whose table was never created.
   */
  async verifySchema(options: VerifyOptions = {}): Promise<SchemaReport> {
    this.#assertOpen("verify the schema");
    return verifySchemas(this.#parts, options, options.concurrency ?? 4);
  }

  /**
   * Generates the migration that brings `group` (`"tenant"` or an alias) from its current
   * migrations to its entities, without touching any real database: a scratch database on the
   * group's driver and server (a temporary SQLite file, or a uniquely named PostgreSQL
   * database, dropped afterwards) is migrated to head, then TypeORM's schema builder lists what
   * the entities placed and managed in `group` still need. Resolves `undefined` when nothing
   * differs. Save `source` as `fileName` in the group's migrations folder.
   *
   * @example
   * ```ts
   * const migration = await router.generateMigration("tenant", "AddNotes");
   * if (migration) await writeFile(`migrations/tenant/${migration.fileName}`, migration.source);
   * ```
   * @throws ConfigurationError for an unknown group or an invalid name.
   * @throws MigrationFailedError when an existing migration fails on the scratch database.
   */
  generateMigration(
    group: string,
    name: string,
    options: GenerateMigrationOptions = {},
  ): Promise<GeneratedMigration | undefined> {
    this.#assertOpen("generate a migration");
    const { options: routerOptions, registry, migrator } = this.#parts;
    return generateMigration({
      group,
      name,
      timestamp: options.timestamp ?? Date.now(),
      options: routerOptions,
      registry,
      migrator,
    });
  }

  /**
   * Where `entity` is placed, as discovered at bootstrap: a class, an `EntitySchema`, an
   * entity name or a table name.
   *
   * @throws EntityNotDiscoveredError when it was not discovered.
   */
  placementOf(entity: EntityTarget<ObjectLiteral>): Placement {
    return this.#parts.registry.placementOf(entity);
  }

  /** Counts of open DataSources, for monitoring. */
  poolStats(): { open: number; openTenants: number; inUse: number; keys: string[] } {
    return this.#parts.pool.stats();
  }

  /** Closes every DataSource, removes test databases and lets decorators run again. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const { pool, registry, testFolder, closeStrategy } = this.#parts;
    try {
      await pool.close();
      await closeStrategy();
    } finally {
      this.#unrouteActiveRecord();
      registry.release();
      await testFolder?.remove();
    }
  }

  // A statement of a tenant dropped meanwhile (maybe by another process) fails in driver terms
  // (its session ended, its tables gone): say it as the routing error it is. Statements
  // translated themselves already (a lost connection too); this catches what escaped them.
  async #translated(scope: TransactionScope, error: unknown): Promise<unknown> {
    const pinned = scope.pinnedTarget;
    const tenant = pinned ? (pinned.kind === "tenant" ? pinned.name : undefined) : currentTenant();
    if (tenant === undefined) return error;
    return (await this.#parts.directory?.translate(tenant, error)) ?? error;
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw RouterClosedError.used(operation);
  }
}
