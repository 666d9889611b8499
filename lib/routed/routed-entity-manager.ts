import {
  CannotDetermineEntityError,
  EntityManager,
  InstanceChecker,
  MustBeEntityError,
  QueryRunnerAlreadyReleasedError,
  type DataSource,
  type EntityMetadata,
  type EntityTarget,
  type ObjectLiteral,
  type QueryRunner,
  type Repository,
  type SelectQueryBuilder,
  type TreeRepository,
} from "typeorm";
import type { IsolationLevel } from "typeorm/driver/types/IsolationLevel";
import { CrossDatabaseTransactionError, UnroutableOperationError } from "../errors";
import type { DatabaseTarget } from "../routing/database-target";
import type { OperationRunner } from "./operation-runner";
import { RoutedRepository } from "./routed-repository";
import { createDataSourceFacade, type FacadeHooks } from "./data-source-facade";
import { HINT_ENTITY } from "./routing-query-runner";
import type { EntityClass, Operation } from "../routing/router-chain";
import { routingContext } from "../context/tenant-context";
import type { TransactionScope } from "../context/transaction-scope";

/** What the routed manager delegates back to its router. */
export interface RoutedManagerHooks {
  /** What the manager's DataSource (`manager.connection`) asks of the router. */
  readonly dataSource: FacadeHooks;
  getRepository<T extends ObjectLiteral>(target: EntityTarget<T>): Repository<T>;
  transaction<T>(
    options: { isolationLevel?: IsolationLevel },
    fn: (manager: EntityManager) => Promise<T>,
  ): Promise<T>;
}

type Kind = Operation | "metadata";

// How each EntityManager method that names an entity is routed.
const ROUTED_METHODS: ReadonlyArray<readonly [string, Kind]> = [
  ...(
    [
      "find",
      "findBy",
      "findAndCount",
      "findAndCountBy",
      "findOne",
      "findOneBy",
      "findOneOrFail",
      "findOneByOrFail",
      "exists",
      "existsBy",
      "count",
      "countBy",
      "sum",
      "average",
      "minimum",
      "maximum",
      "preload",
    ] as const
  ).map((name) => [name, "read"] as const),
  ...(
    [
      "save",
      "remove",
      "softRemove",
      "recover",
      "insert",
      "upsert",
      "update",
      "updateAll",
      "delete",
      "deleteAll",
      "softDelete",
      "restore",
      "clear",
      "increment",
      "decrement",
    ] as const
  ).map((name) => [name, "write"] as const),
  ...(["create", "merge", "hasId", "getId"] as const).map((name) => [name, "metadata"] as const),
];

// Methods whose first argument may be the entity itself rather than its class.
const ENTITY_FIRST = new Set(["save", "remove", "softRemove", "recover"]);

type AnyMethod = (...args: unknown[]) => Promise<unknown> | unknown;

/**
 * An EntityManager that routes every call by the entity it names: reads through
 * `dbForRead`, writes through `dbForWrite`, inside the current `router.transaction()` when
 * there is one. `instanceof EntityManager` stays true.
 *
 * Calls that name no entity (`query`, a bare `createQueryBuilder()`) run inside the
 * transaction that has picked its database, else on the tenant in context; elsewhere use
 * `router.query(target, ...)`.
 */
export class RoutedEntityManager extends EntityManager {
  readonly #runner: OperationRunner;
  readonly #hooks: RoutedManagerHooks;
  #transactional = false;
  // The database of a transaction manager's first statement, until the transaction pins.
  #firstTarget: DatabaseTarget | undefined;
  #facade: DataSource | undefined;
  // A transaction manager's transaction, and its runner once something asked for it.
  #scope: TransactionScope | undefined;
  #transactionRunner: QueryRunner | undefined;
  #repositories: Map<unknown, Repository<ObjectLiteral>> | undefined;

  /** @internal Built by TenantRouter. */
  constructor(runner: OperationRunner, hooks: RoutedManagerHooks) {
    // The routed manager has no single DataSource; `dataSource` throws (see below).
    super(undefined as unknown as DataSource);
    this.#runner = runner;
    this.#hooks = hooks;
  }

  static {
    for (const [name, kind] of ROUTED_METHODS) {
      Object.defineProperty(this.prototype, name, {
        configurable: true,
        writable: true,
        value: function routed(this: RoutedEntityManager, ...args: unknown[]) {
          return this.#dispatch(name, kind, args);
        },
      });
    }
    // A transaction manager has one runner for the transaction's life, as TypeORM's
    // transactional manager has: made when first asked for, it binds to the transaction's
    // connection at its first statement (told that statement's entity). Other routed
    // managers have none.
    Object.defineProperty(this.prototype, "queryRunner", {
      configurable: true,
      get(this: RoutedEntityManager): QueryRunner | undefined {
        if (this.#transactionRunner || !this.#transactional) return this.#transactionRunner;
        const runner = this.#runner.entityLessDataSource().createQueryRunner();
        // Released when the whole transaction ends (a nested one's manager keeps working in
        // the outer transaction, as TypeORM's), so it never binds outside it: used later, it
        // fails as TypeORM's released runners do.
        if (this.#scope?.finished) void runner.release();
        else this.#scope?.whenEnded(() => runner.release());
        return (this.#transactionRunner = runner);
      },
      set(this: RoutedEntityManager, runner: QueryRunner | undefined) {
        this.#transactionRunner = runner;
      },
    });
    // EntityManager assigns `dataSource` (0.3: `connection`) in its constructor; keep that
    // assignment harmless: both read the routed DataSource facade.
    for (const name of ["dataSource", "connection"]) {
      Object.defineProperty(this.prototype, name, {
        configurable: true,
        get(this: RoutedEntityManager): DataSource {
          return this.#dataSource();
        },
        set() {},
      });
    }
  }

  // What third-party code reaching for `manager.connection` gets (see createDataSourceFacade).
  #dataSource(): DataSource {
    this.#facade ??= createDataSourceFacade(
      this.#runner.entityLessDataSource(),
      this,
      this.#hooks.dataSource,
    );
    return this.#facade;
  }

  /**
   * The manager `router.transaction()` hands to its callback: the same routing, plus the
   * transaction's `queryRunner`, as TypeORM's transactional managers have. The runner is the
   * pinned transaction's connection; before the transaction has picked its database it picks
   * it at its first statement (the tenant in context).
   */
  forTransaction(): RoutedEntityManager {
    const manager = new RoutedEntityManager(this.#runner, this.#hooks);
    manager.#transactional = true;
    manager.#scope = routingContext()?.transaction;
    return manager;
  }

  // A transaction manager's repository of `target`, on this manager and its runner (as
  // TypeORM's transactional managers give).
  #transactionRepository<T extends ObjectLiteral>(target: EntityTarget<T>): Repository<T> {
    this.#repositories ??= new Map();
    let repository = this.#repositories.get(target);
    if (!repository) {
      this.#runner.metadataManager(target as EntityClass | string);
      repository = new RoutedRepository(target as EntityTarget<ObjectLiteral>, this);
      Object.defineProperty(repository, "queryRunner", { get: () => this.queryRunner });
      this.#repositories.set(target, repository);
    }
    return repository as Repository<T>;
  }

  /** @internal The runner routed repositories share. */
  get runner(): OperationRunner {
    return this.#runner;
  }

  /** The metadata of `target` (from a never-connected DataSource of its placement). */
  metadataOf(target: EntityTarget<ObjectLiteral>): EntityMetadata {
    return this.#runner
      .metadataManager(target as EntityClass | string)
      .connection.getMetadata(target);
  }

  /**
   * A query builder that routes when it runs: by the entity it names (`from`, `into`,
   * `update`, a relation's owner), in the context of that moment. It is built synchronously
   * on the entity's placement group, so it works whether or not the database is open yet.
   * Without an entity it belongs to the pinned transaction if there is one; else it routes
   * by the entity it names later (`update(X)`, `insert().into(X)`, `from(X, "x")`), and a
   * statement that names none (raw table names) runs on the tenant in context, or throws
   * `UnroutableOperationError` when it runs outside any tenant.
   */
  override createQueryBuilder<Entity extends ObjectLiteral>(
    entityClass?: EntityTarget<Entity> | QueryRunner,
    alias?: string,
    queryRunner?: QueryRunner,
  ): SelectQueryBuilder<Entity> {
    if (alias !== undefined) {
      const target = entityClass as EntityTarget<Entity>;
      return this.#runner
        .routingDataSource(target as EntityClass | string)
        .createQueryBuilder(
          target,
          alias,
          queryRunner ?? this.#runnerFor(target, "read", "createQueryBuilder"),
        );
    }
    const runner =
      (entityClass as QueryRunner | undefined) ??
      (this.#transactional ? this.queryRunner : undefined);
    const pinned = routingContext()?.transaction?.pinnedManagerAnywhere();
    if (pinned) return pinned.createQueryBuilder(runner) as SelectQueryBuilder<Entity>;
    // A runner of the caller's own (TypeORM's MigrationExecutor passes one) decides where the
    // statement runs: on a router with no entity at all, build on its DataSource.
    if (runner && !this.#runner.hasEntities()) {
      return runner.connection.createQueryBuilder(runner) as SelectQueryBuilder<Entity>;
    }
    return this.#runner
      .entityLessDataSource()
      .createQueryBuilder(runner) as SelectQueryBuilder<Entity>;
  }

  // A transaction's manager runs every statement on its own runner, as TypeORM's does. The
  // statement's entity must route where the transaction is (or will be) pinned: else
  // CrossDatabaseTransactionError, before anything runs.
  #runnerFor(
    target: EntityTarget<ObjectLiteral>,
    operation: Operation,
    method: string,
    instance?: object,
  ): QueryRunner | undefined {
    if (!this.#transactional) return undefined;
    const entity = target as EntityClass | string;
    const routed = this.#runner.route(entity, operation, instance, method);
    const transaction = routingContext()?.transaction;
    if (transaction?.pinnedManagerAnywhere()) {
      transaction.pinnedManager(routed, method);
    } else if (this.#firstTarget && this.#firstTarget.key !== routed.key) {
      throw CrossDatabaseTransactionError.touched(
        this.#firstTarget.description,
        routed.description,
        `${method}()`,
      );
    } else {
      this.#firstTarget = routed;
    }
    const runner = this.queryRunner!;
    Reflect.set(runner, HINT_ENTITY, { entity, operation });
    return runner;
  }

  /**
   * Runs raw SQL: inside a pinned transaction on its connection, else inside `withTenant` on
   * the tenant's database (pinning a transaction that has not picked its database yet).
   *
   * @throws UnroutableOperationError outside both (use `router.query(target, sql)`).
   */
  override query<T = unknown>(query: string, parameters?: unknown[]): Promise<T> {
    // A transaction's manager: on its runner, as TypeORM's (the pinned connection, else the
    // tenant in context, which pins the transaction).
    if (this.#transactional) {
      if (this.#scope?.finished) return Promise.reject(new QueryRunnerAlreadyReleasedError());
      return this.queryRunner!.query(query, parameters) as Promise<T>;
    }
    try {
      const transaction = routingContext()?.transaction;
      const target = transaction?.pinnedManagerAnywhere()
        ? transaction.pinnedTarget!
        : this.#runner.contextTarget("query");
      return this.#runner.runOn(target, "query", (manager) => manager.query<T>(query, parameters));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Returns the router's routed repository for `target`. */
  override getRepository<Entity extends ObjectLiteral>(
    target: EntityTarget<Entity>,
  ): Repository<Entity> {
    if (this.#transactional) return this.#transactionRepository(target);
    return this.#hooks.getRepository(target);
  }

  /** Runs `fn` in `router.transaction()`. */
  override transaction<T>(
    isolationOrFn: IsolationLevel | ((manager: EntityManager) => Promise<T>),
    maybeFn?: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    if (typeof isolationOrFn === "function") return this.#hooks.transaction({}, isolationOrFn);
    return this.#hooks.transaction({ isolationLevel: isolationOrFn }, maybeFn!);
  }

  /** Routed repositories already follow the current transaction; returns `repository` as is. */
  override withRepository<Entity extends ObjectLiteral, R extends Repository<Entity>>(
    repository: R,
  ): R {
    if (repository.manager === this) return repository;
    if (repository instanceof RoutedRepository) {
      // TypeORM's own recipe (EntityManager.withRepository), on this manager.
      const { target, manager, queryRunner, ...own } = repository;
      void manager;
      void queryRunner;
      const rebound = new (repository.constructor as typeof RoutedRepository)(target, this);
      return Object.assign(rebound, own) as unknown as R;
    }
    throw UnroutableOperationError.unsupported(
      "withRepository() with a repository that is not routed",
      "Use router.getRepository(Entity) (or its .extend()) instead; it follows the transaction by itself.",
    );
  }

  /**
   * The tree repository of `target` (closure table, materialized path or nested set), routed
   * when each statement runs like every query builder.
   *
   * @throws EntityNotDiscoveredError when `target` was not discovered.
   */
  override getTreeRepository<Entity extends ObjectLiteral>(
    target: EntityTarget<Entity>,
  ): TreeRepository<Entity> {
    return this.#runner
      .routingDataSource(target as EntityClass | string)
      .manager.getTreeRepository(target);
  }

  /** Not supported: MongoDB is not a routed driver. */
  override getMongoRepository(): never {
    throw UnroutableOperationError.unsupported("getMongoRepository()", "MongoDB is not supported.");
  }

  /** Nothing to release: routed calls release their connections themselves. */
  override release(): Promise<void> {
    return Promise.resolve();
  }

  // Whether a transaction manager's call can run as routed calls do inside its transaction,
  // on the pinned connection's own manager (no routing runner in between): it runs in its
  // transaction's context, and nobody holds its `queryRunner` yet (once someone does, every
  // statement goes through that runner, as on TypeORM's transactional managers: a spy on it
  // sees them all).
  #runsLikeRoutedCalls(): boolean {
    return (
      this.#transactionRunner === undefined &&
      this.#scope !== undefined &&
      routingContext()?.transaction === this.#scope
    );
  }

  #dispatch(name: string, kind: Kind, args: unknown[]): unknown {
    let target: unknown = args[0];
    let instance: object | undefined;
    if (ENTITY_FIRST.has(name)) {
      const first = args[0];
      const named =
        args.length > 1 &&
        (typeof first === "function" ||
          typeof first === "string" ||
          InstanceChecker.isEntitySchema(first));
      instance = (named ? args[1] : first) as object | undefined;
      if (Array.isArray(instance) && instance.length === 0) return Promise.resolve(instance);
      // TypeORM's own errors for what it cannot persist (EntityPersistExecutor).
      if (!instance || typeof instance !== "object") {
        return Promise.reject(new MustBeEntityError(name, instance));
      }
      if (!named) target = (Array.isArray(first) ? first[0] : first)?.constructor;
      if (target === Object) return Promise.reject(new CannotDetermineEntityError(name));
    } else if ((name === "hasId" || name === "getId") && args.length === 1) {
      target = (args[0] as object).constructor;
    }
    const entity = target as EntityClass | string;
    if (kind === "metadata") {
      const manager = this.#runner.metadataManager(entity);
      return (manager[name as keyof EntityManager] as AnyMethod).apply(manager, args);
    }
    // Kept after its transaction ended, a transaction's manager fails as TypeORM's does (its
    // runner released), instead of writing outside any transaction.
    if (this.#scope?.finished) return Promise.reject(new QueryRunnerAlreadyReleasedError());
    if (this.#transactional && !this.#runsLikeRoutedCalls()) {
      // TypeORM's own method, on this manager and its runner (see #runnerFor).
      this.#runnerFor(entity, kind, name, instance);
      return (EntityManager.prototype[name as keyof EntityManager] as AnyMethod).apply(this, args);
    }
    return this.#runner.run(
      entity,
      kind,
      instance,
      name,
      (manager) =>
        (manager[name as keyof EntityManager] as AnyMethod).apply(
          manager,
          args,
        ) as Promise<unknown>,
    );
  }
}
