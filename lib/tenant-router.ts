import type { DataSource, EntityManager, EntityTarget, ObjectLiteral, Repository } from "typeorm";
import type { IsolationLevel } from "typeorm/driver/types/IsolationLevel";
import { DataSourceFactory } from "./data-source-factory";
import { DataSourcePool } from "./data-source-pool";
import { DatabaseResolver } from "./database-resolver";
import { DecoratorRouter } from "./decorator-router";
import { EntityRegistry, TENANT_GROUP, type Placement } from "./entity-registry";
import {
  BootstrapError,
  ConfigurationError,
  RouterClosedError,
  messageOf,
  type BootstrapProblem,
} from "./errors";
import { OperationRunner } from "./operation-runner";
import { RoutedEntityManager } from "./routed-entity-manager";
import { RoutedRepository } from "./routed-repository";
import { RouterChain, type DatabaseRef, type EntityClass, type Operation } from "./router-chain";
import {
  normalizeOptions,
  type NormalizedOptions,
  type TenantRouterOptions,
} from "./router-options";
import {
  createTemporarySqliteFolder,
  type TemporarySqliteFolder,
} from "./strategies/temporary-sqlite";
import { routingContext, runInTransaction } from "./tenant-context";
import { TenantDirectory } from "./tenant-directory";
import { TransactionScope } from "./transaction-scope";

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
}

interface Parts {
  readonly options: NormalizedOptions;
  readonly registry: EntityRegistry;
  readonly pool: DataSourcePool;
  readonly resolver: DatabaseResolver;
  readonly runner: OperationRunner;
  readonly directory: TenantDirectory | undefined;
  readonly testFolder: TemporarySqliteFolder | undefined;
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

  readonly #parts: Parts;
  readonly #repositories = new Map<unknown, Repository<ObjectLiteral>>();
  #closed = false;

  private constructor(parts: Parts) {
    this.#parts = parts;
    this.testMode = parts.options.testMode;
    this.manager = new RoutedEntityManager(parts.runner, {
      getRepository: (target) => this.getRepository(target),
      transaction: (options, fn) => this.transaction(options, fn),
    });
    this.tenants = Object.freeze({
      list: async () => (parts.directory ? parts.directory.list() : []),
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
    const customRouters = new RouterChain(normalized.routers);
    const discovery = await EntityRegistry.discover({
      entities: normalized.entities,
      aliases: [...normalized.databases.keys()],
      undiscoveredEntities: normalized.undiscoveredEntities,
      cwd: normalized.cwd,
      allowRelation: (a, b) =>
        customRouters.allowRelation(a, b, {
          tenant: undefined,
          operation: "relation",
          testMode: normalized.testMode,
        }),
    });
    if (!discovery.ok) throw BootstrapError.fromProblems(discovery.problems);
    const { registry } = discovery;
    let testFolder: TemporarySqliteFolder | undefined;
    try {
      const external = registry.placements.filter((placement) => placement.external);
      if (external.length > 0 && !normalized.tenants) {
        throw ConfigurationError.invalid(
          "tenants",
          `entities ${external.map((p) => `"${p.name}"`).join(", ")} are @External but no tenants are configured`,
          "Add tenants: { list, options } to TenantRouter.create.",
        );
      }
      testFolder = normalized.testMode ? await createTemporarySqliteFolder() : undefined;
      const factory = new DataSourceFactory({ options: normalized, registry, testFolder });
      const blueprints = await buildBlueprints(factory, registry, normalized);
      const built: { router?: TenantRouter } = {};
      const directory = normalized.tenants
        ? new TenantDirectory({
            list: normalized.tenants.list,
            router: () => built.router!,
            refreshIntervalMs: normalized.tenants.refreshIntervalMs,
          })
        : undefined;
      const pool = new DataSourcePool({
        ...normalized.pool,
        open: async (target) => {
          if (target.kind === "tenant") await directory!.assertKnown(target.name);
          return factory.open(target);
        },
      });
      const resolver = new DatabaseResolver({
        chain: new RouterChain([...normalized.routers, new DecoratorRouter(registry)]),
        databases: normalized.databases,
        tenantsConfigured: normalized.tenants !== undefined,
        testMode: normalized.testMode,
      });
      const runner = new OperationRunner({
        registry,
        resolver,
        pool,
        blueprints,
        testMode: normalized.testMode,
      });
      built.router = new TenantRouter({
        options: normalized,
        registry,
        pool,
        resolver,
        runner,
        directory,
        testFolder,
      });
      return built.router;
    } catch (error) {
      registry.release();
      await testFolder?.remove();
      throw error;
    }
  }

  /**
   * The routed repository of `entity`: one stable object per entity that routes each call.
   *
   * @throws EntityNotDiscoveredError when `entity` was not discovered at bootstrap.
   */
  getRepository<T extends ObjectLiteral>(entity: EntityTarget<T>): Repository<T> {
    this.#assertOpen("getRepository()");
    let repository = this.#repositories.get(entity);
    if (!repository) {
      this.#parts.registry.placementOf(entity as EntityClass | string);
      repository = new RoutedRepository(
        entity as EntityTarget<ObjectLiteral>,
        this.manager as RoutedEntityManager,
      );
      this.#repositories.set(entity, repository);
    }
    return repository as Repository<T>;
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
  async transaction<T>(
    optionsOrFn: TransactionOptions | ((manager: EntityManager) => Promise<T>),
    maybeFn?: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
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
    const { pool, resolver } = this.#parts;
    const scope = new TransactionScope(
      routingContext()?.transaction,
      (target) => pool.acquire(target),
      options.isolationLevel,
    );
    return runInTransaction(scope, async () => {
      let result: T;
      try {
        if (options.target !== undefined) {
          await scope.managerFor(
            resolver.target(options.target, "router.transaction({ target })"),
            "router.transaction({ target })",
          );
        }
        result = await fn(this.manager);
      } catch (error) {
        await scope.finish(true).catch((rollbackError: unknown) => {
          process.emitWarning(
            `typeorm-router: rolling back a transaction failed: ${messageOf(rollbackError)}`,
            { code: "TYPEORM_ROUTER_ROLLBACK_FAILED" },
          );
        });
        throw error;
      }
      await scope.finish(false);
      return result;
    });
  }

  /**
   * The escape hatch: the initialized DataSource that `operation` on `entity` routes to in
   * the current context. Do not keep it across requests: idle tenants are evicted.
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
    const lease = await this.#parts.pool.acquire(target);
    lease.release();
    return lease.dataSource;
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
    const resolved = resolver.target(target, "router.query()");
    if ((options.operation ?? "write") === "write")
      runner.assertWritable(resolved, "a raw SQL statement");
    return runner.runOn(resolved, "query", (manager) => manager.query<R>(sql, parameters));
  }

  /**
   * Where `entity` is placed, as discovered at bootstrap.
   *
   * @throws EntityNotDiscoveredError when it was not discovered.
   */
  placementOf(entity: EntityClass | string): Placement {
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
    const { pool, registry, testFolder } = this.#parts;
    try {
      await pool.close();
    } finally {
      registry.release();
      await testFolder?.remove();
    }
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw RouterClosedError.used(operation);
  }
}

async function buildBlueprints(
  factory: DataSourceFactory,
  registry: EntityRegistry,
  options: NormalizedOptions,
): Promise<Map<string, DataSource>> {
  const groups = new Set(registry.placements.map((placement) => placement.group));
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
