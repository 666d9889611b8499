import { TypeORMError, type DataSource, type EntityManager } from "typeorm";
import type { RunnerBinding } from "./routing-query-runner";
import {
  createRoutingView,
  makeRoutingDataSource,
  type HintBinder,
  type StatementHint,
} from "./routing-data-source";
import { createUnionDataSource } from "./union-data-source";
import type { DataSourcePool, Lease } from "../pool/data-source-pool";
import type { DatabaseTarget } from "../routing/database-target";
import type { DatabaseResolver } from "../routing/database-resolver";
import type { ChannelLog } from "../observability/router-log";
import { TENANT_GROUP, type EntityRegistry, type Placement } from "../registry/entity-registry";
import {
  DatabaseUnavailableError,
  NoTenantContextError,
  ReadOnlyDatabaseError,
  RoutingError,
  UnroutableOperationError,
} from "../errors";
import { isConnectionLost } from "../dialects";
import type { EntityClass, Operation } from "../routing/router-chain";
import { ReplicaSelector } from "../routing/replica-selector";
import { routingContext } from "../context/tenant-context";

/** Where a statement goes, what it does there, and the metadata its SQL was built from. */
interface StatementTarget {
  readonly target: DatabaseTarget;
  readonly method: string;
  readonly built: DataSource | undefined;
}

// TypeORM's error for a query runner used after its release. The router releases the runners
// it holds only once their work is done, so during the work it means that the driver released
// the runner under it on a connection error (pg's runners do, when the socket closes).
const RELEASED = "QueryRunnerAlreadyReleasedError";

/** Props of {@link OperationRunner}. */
export interface OperationRunnerProps {
  readonly registry: EntityRegistry;
  readonly resolver: DatabaseResolver;
  readonly pool: DataSourcePool;
  /** Never-connected DataSources with built metadata, per placement group. */
  readonly blueprints: ReadonlyMap<string, DataSource>;
  readonly testMode: boolean;
  /**
   * Turns a driver error from work on a tenant into the routing error it means (e.g.
   * `UnknownTenantError` for a tenant dropped by another process); resolves `undefined` to
   * keep the error as it is.
   */
  readonly translateError?: (target: DatabaseTarget, error: unknown) => Promise<unknown>;
  /** The router's `route` log channel. */
  readonly log: ChannelLog;
}

/**
 * Runs one routed operation: reads the context, asks the router chain where it goes, refuses
 * writes to read-only databases, and runs it on the pinned transaction or a pooled
 * DataSource. Every failure is a rejected promise, never a synchronous throw.
 */
export class OperationRunner {
  readonly #props: OperationRunnerProps;
  readonly #replicas = new ReplicaSelector();
  // dataSourceFor() views, one per open DataSource (gone with it once it is evicted).
  readonly #views = new WeakMap<DataSource, DataSource>();
  // Keyed by the metadata set: every view of a shared database shares its base's, so a tenant
  // opening costs no entry here.
  readonly #compatible = new WeakMap<DataSource["entityMetadatas"], boolean>();
  #union: DataSource | undefined;

  constructor(props: OperationRunnerProps) {
    this.#props = props;
  }

  /** Runs `fn` with the manager `operation` on `entity` routes to. */
  run<T>(
    entity: EntityClass | string,
    operation: Operation,
    instance: object | undefined,
    method: string,
    fn: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    try {
      const target = this.route(entity, operation, instance, method);
      const result = this.runOn(target, method, fn);
      if (operation === "read" || !target.replicas?.length) return result;
      // Replicas lag from the commit on: restart the read-your-writes window when it lands.
      const context = routingContext();
      const reopen = () => this.#replicas.recordWrite(target, context);
      return result.then(
        (value) => (reopen(), value),
        (error: unknown) => {
          reopen();
          throw error;
        },
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Runs `fn` on `target`: inside the current transaction if any, else on the pool. A failure
   * is the routing error it means (see {@link translate}).
   */
  runOn<T>(
    target: DatabaseTarget,
    method: string,
    fn: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    return this.#runOn(target, method, fn).catch(async (error: unknown) => {
      throw await this.translate(target, error);
    });
  }

  /**
   * The error that work on `target` failed with, as the routing error it means:
   * `UnknownTenantError` for a tenant dropped meanwhile (maybe by another process), and
   * `DatabaseUnavailableError` when the connection broke or could not be made; any other error
   * (a SQL error stays TypeORM's `QueryFailedError`) as it is. Give it only errors of the
   * database, from work that still held its runner: an error of user code may look like a
   * driver's (an HTTP call's `ECONNREFUSED`), and a runner used after its release is misuse.
   */
  async translate(target: DatabaseTarget, error: unknown): Promise<unknown> {
    const translateError = this.#props.translateError;
    if (translateError && target.kind === "tenant") {
      const dropped = await translateError(target, error);
      if (dropped !== undefined) return dropped;
    }
    if (error instanceof RoutingError) return error;
    const lost = isConnectionLost(error) || (error as { name?: unknown }).name === RELEASED;
    return lost ? DatabaseUnavailableError.lost(target.description, error) : error;
  }

  #runOn<T>(
    target: DatabaseTarget,
    method: string,
    fn: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    const transaction = routingContext()?.transaction;
    if (transaction) {
      const pinned = transaction.pinnedManager(target, method);
      if (pinned) return fn(pinned);
      return transaction.managerFor(target, `${method}()`).then(fn);
    }
    return this.#props.pool.use(target, (dataSource) => fn(dataSource.manager));
  }

  /**
   * Where `operation` on `entity` goes.
   *
   * @throws NoTenantContextError, UnknownDatabaseError, EntityNotDiscoveredError or
   * ReadOnlyDatabaseError (for writes outside test mode).
   */
  route(
    entity: EntityClass | string,
    operation: Operation,
    instance: object | undefined,
    method: string,
  ): DatabaseTarget {
    const placement = this.#props.registry.placementOf(entity);
    const context = routingContext();
    const target = this.#props.resolver.route(
      placement.entity,
      operation,
      context?.tenant,
      instance,
    );
    if (operation === "write" && !this.#props.testMode && (placement.readOnly || target.readOnly))
      this.assertWritable(target, `${method}() of "${placement.name}"`, placement);
    if (this.#props.log.debugEnabled) {
      this.#props.log.debug(`${method} of "${placement.name}" → ${target.description}`, {
        tenant: context?.tenant,
        database: target.key,
        operation,
      });
    }
    return target.replicas?.length ? this.replicaOrPrimary(target, operation) : target;
  }

  /**
   * For a replicated alias: where `operation` goes in the current context — a read replica,
   * or the primary (writes, transactions, `withPrimary`, and reads within the sticky window
   * after a write, which this opens).
   */
  replicaOrPrimary(target: DatabaseTarget, operation: Operation): DatabaseTarget {
    if (!target.replicas?.length) return target;
    const context = routingContext();
    if (operation === "read") return this.#replicas.readTarget(target, context);
    this.#replicas.recordWrite(target, context);
    return target;
  }

  /**
   * Refuses a write to a read-only alias or entity outside test mode.
   *
   * @throws ReadOnlyDatabaseError
   */
  assertWritable(target: DatabaseTarget, what: string, placement?: Placement): void {
    if (this.#props.testMode) return;
    if (placement?.readOnly) {
      throw ReadOnlyDatabaseError.refused(
        what,
        target.description,
        `entity "${placement.name}" is @ReadOnly()`,
      );
    }
    if (target.readOnly) {
      throw ReadOnlyDatabaseError.refused(
        what,
        target.description,
        `the database is configured readOnly: true`,
      );
    }
  }

  /** A manager that knows `entity`'s metadata but never connects (for create/merge/hasId/getId). */
  metadataManager(entity: EntityClass | string): EntityManager {
    return this.routingDataSource(entity).manager;
  }

  /**
   * The routing DataSource of `entity`'s placement group: built once, holding the group's
   * metadata, and choosing the database of each statement when it runs (see
   * `makeRoutingDataSource`).
   *
   * @throws EntityNotDiscoveredError when `entity` was not discovered.
   */
  routingDataSource(entity: EntityClass | string): DataSource {
    return this.#props.blueprints.get(this.#props.registry.placementOf(entity).group)!;
  }

  /**
   * The binder of a routing query runner of `group`'s DataSource: when its first SQL is
   * about to run, it routes by the entity the statement names (else by `group`'s rule) in the
   * context of that moment, then takes the pinned transaction's connection or a connection of
   * the target, with a pool reference held until the runner is released.
   */
  binderFor(group: string | undefined): HintBinder {
    return (hint) => {
      // Where bindNow() found the statement goes, when its target was not open: the runner
      // binds there (routing once: one debug line, one read-your-writes window).
      let routed: StatementTarget | undefined;
      return {
        bind: (_mode, told) =>
          routed
            ? this.#bindTarget(routed.target, routed.method, routed.built)
            : this.#bind(
                group,
                hint.entity === undefined && told
                  ? { entity: told.entity as EntityClass | string, operation: told.operation }
                  : hint,
              ),
        bindNow: () => {
          const statement = this.#statementNow(group, hint);
          if (!statement) return undefined;
          const binding = this.#bindNow(statement);
          if (!binding) routed = statement;
          return binding;
        },
        joinsTransaction: joinsTransaction,
      };
    };
  }

  /**
   * Refuses an isolation level that no database of the router supports, as TypeORM does when
   * a transaction starts (its `TypeORMError`), before anything runs: a router transaction
   * starts lazily, at its first statement.
   *
   * @throws TypeORMError `"<level> isolation level is not supported"`.
   */
  assertIsolationLevel(isolationLevel: string | undefined): void {
    if (isolationLevel === undefined) return;
    const supported = [...this.#props.blueprints.values()].map(
      (blueprint) =>
        (blueprint.driver as { supportedIsolationLevels?: readonly string[] })
          .supportedIsolationLevels,
    );
    // TypeORM 0.3 drivers list no levels: their runners validate when the transaction starts.
    if (supported.some((levels) => levels === undefined || levels.includes(isolationLevel))) return;
    throw new TypeORMError(`${isolationLevel} isolation level is not supported`);
  }

  /** Whether any entity was discovered. */
  hasEntities(): boolean {
    return this.#props.registry.placements.length > 0;
  }

  /**
   * The routing DataSource of query builders that name their entity only after they are
   * created (`router.manager.createQueryBuilder().update(X)`): it knows every group's
   * metadata, and a statement that names no entity goes to the tenant in context.
   */
  entityLessDataSource(): DataSource {
    if (!this.#union) {
      const union = createUnionDataSource(this.#props.blueprints, this.#props.registry);
      makeRoutingDataSource(union, this.binderFor(undefined));
      this.#union = union;
    }
    return this.#union;
  }

  /**
   * A DataSource whose statements all go to `target` (inside the current transaction when
   * there is one): eviction-safe, since each of its query runners holds a pool reference
   * while it works (`router.dataSourceFor()`).
   */
  async targetDataSource(target: DatabaseTarget): Promise<DataSource> {
    const lease = await this.#props.pool.acquire(target);
    try {
      let view = this.#views.get(lease.dataSource);
      if (!view) {
        // On the target's own metadata (a reopened DataSource of the target builds the same).
        view = createRoutingView(lease.dataSource, lease.dataSource.options, () => ({
          bind: () => this.#bindTarget(target, "dataSourceFor()"),
          joinsTransaction: joinsTransaction,
        }));
        this.#views.set(lease.dataSource, view);
      }
      return view;
    } finally {
      lease.release();
    }
  }

  async #bind(group: string | undefined, hint: StatementHint): Promise<RunnerBinding> {
    const { target, method, built } = this.#statementTarget(group, hint);
    return this.#bindTarget(target, method, built);
  }

  // Where a statement goes, routed now, outside any transaction; `undefined` inside one (its
  // runner then joins it when bound) or when routing fails (the lazy path routes again and
  // reports the failure as a rejected promise, not a throw from the builder).
  #statementNow(group: string | undefined, hint: StatementHint): StatementTarget | undefined {
    if (routingContext()?.transaction) return undefined;
    try {
      return this.#statementTarget(group, hint);
    } catch {
      return undefined;
    }
  }

  // The binding of `statement` when its target is open in the pool right now: no wait, so
  // the runner can be the target's own (no routing runner in between); else `undefined`.
  #bindNow(statement: StatementTarget): RunnerBinding | undefined {
    const lease = this.#props.pool.tryAcquire(statement.target);
    if (!lease) return undefined;
    if (statement.built && !this.#sameTables(statement.built, lease.dataSource)) {
      lease.release();
      return undefined;
    }
    return this.#leaseBinding(lease, (error) => this.translate(statement.target, error));
  }

  // Where a statement of `group` (described by `hint`) goes, and the metadata it was built on.
  #statementTarget(group: string | undefined, hint: StatementHint): StatementTarget {
    const method = hint.operation === "read" ? "a query builder read" : "a query";
    if (hint.entity !== undefined && this.#props.registry.isPlaced(hint.entity)) {
      const target = this.route(hint.entity, hint.operation, undefined, method);
      return { target, method, built: this.routingDataSource(hint.entity) };
    }
    const target =
      group === undefined
        ? this.#routeContext(hint.operation, method)
        : this.#routeGroup(group, hint.operation, method);
    return {
      target,
      method,
      built: group === undefined ? undefined : this.#props.blueprints.get(group),
    };
  }

  // A runner of the leased DataSource; releasing the binding releases the runner (its own
  // method, whatever is assigned over it later) and gives the lease back.
  #leaseBinding(lease: Lease, failed: RunnerBinding["failed"]): RunnerBinding {
    const queryRunner = lease.dataSource.createQueryRunner("master");
    const releaseRunner = queryRunner.release;
    return {
      queryRunner,
      release: () =>
        releaseRunner.call(queryRunner).then(
          () => lease.release(),
          (error: unknown) => {
            lease.release();
            throw error;
          },
        ),
      failed,
    };
  }

  /**
   * Where a statement that names no entity goes: the tenant in context (its primary).
   *
   * @throws UnroutableOperationError outside any tenant; UnknownTenantError and the like.
   */
  contextTarget(method: string): DatabaseTarget {
    const tenant = routingContext()?.tenant;
    if (tenant === undefined) throw UnroutableOperationError.withoutTarget(method);
    return this.#props.resolver.target({ tenant }, method);
  }

  // A statement that names no entity and belongs to no group: the pinned transaction's
  // database, else the tenant in context.
  #routeContext(operation: Operation, method: string): DatabaseTarget {
    const pinned = routingContext()?.transaction?.pinnedTarget;
    if (pinned) return pinned;
    if (routingContext()?.tenant === undefined) {
      throw UnroutableOperationError.withoutTarget("createQueryBuilder");
    }
    return this.#routeGroup(TENANT_GROUP, operation, method);
  }

  // `built` is the DataSource whose metadata wrote the SQL: the target must agree with it.
  // Failures, to bind and of the runner's statements, are the routing errors they mean.
  async #bindTarget(
    target: DatabaseTarget,
    method: string,
    built?: DataSource,
  ): Promise<RunnerBinding> {
    const failed = (error: unknown) => this.translate(target, error);
    const transaction = routingContext()?.transaction;
    let lease: Lease;
    try {
      if (transaction) {
        const manager =
          transaction.pinnedManager(target, method) ??
          (await transaction.managerFor(target, method));
        return {
          queryRunner: manager.queryRunner!,
          release: () => Promise.resolve(),
          // After the transaction, its runner is released: using it is misuse, not an outage.
          failed: (error) => (transaction.finished ? Promise.resolve(error) : failed(error)),
        };
      }
      lease = await this.#props.pool.acquire(target);
    } catch (error) {
      throw await failed(error);
    }
    if (built && !this.#sameTables(built, lease.dataSource)) {
      lease.release();
      throw UnroutableOperationError.unsupported(
        `${method} built on the shared metadata of its placement, on ${target.description}, whose options shape the entity metadata differently (another entityPrefix, naming strategy or schema)`,
        "Give every database of a placement group the same metadata options, or query it through router.dataSourceFor(Entity).",
      );
    }
    return this.#leaseBinding(lease, failed);
  }

  // Whether SQL written from `built`'s metadata names the same tables on `dataSource`
  // (checked once per metadata set: they differ only when tenant options shape metadata).
  #sameTables(built: DataSource, dataSource: DataSource): boolean {
    let same = this.#compatible.get(dataSource.entityMetadatas);
    if (same === undefined) {
      same = built.entityMetadatas.every(
        (metadata) =>
          !dataSource.hasMetadata(metadata.target) ||
          dataSource.getMetadata(metadata.target).tablePath === metadata.tablePath,
      );
      this.#compatible.set(dataSource.entityMetadatas, same);
    }
    return same;
  }

  // A statement that names no placed entity goes where its DataSource's group lives: the
  // alias, or the tenant in context (never "default" in its place).
  #routeGroup(group: string, operation: Operation, method: string): DatabaseTarget {
    const context = routingContext();
    let target: DatabaseTarget;
    if (group === TENANT_GROUP) {
      if (context?.tenant === undefined) throw NoTenantContextError.forStatement(method);
      target = this.#props.resolver.target({ tenant: context.tenant }, method);
    } else {
      target = this.#props.resolver.target(group, method);
    }
    if (operation === "write") this.assertWritable(target, method);
    return this.replicaOrPrimary(target, operation);
  }
}

// Whether a routing runner made now will join an open `router.transaction()`.
function joinsTransaction(): boolean {
  return routingContext()?.transaction !== undefined;
}
