import type { DataSource, EntityManager } from "typeorm";
import type { DataSourcePool } from "../pool/data-source-pool";
import type { DatabaseTarget } from "../routing/database-target";
import type { DatabaseResolver } from "../routing/database-resolver";
import type { EntityRegistry, Placement } from "../registry/entity-registry";
import { ReadOnlyDatabaseError, UnroutableOperationError } from "../errors";
import type { EntityClass, Operation } from "../routing/router-chain";
import { ReplicaSelector } from "../routing/replica-selector";
import { routingContext } from "../context/tenant-context";

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
}

/**
 * Runs one routed operation: reads the context, asks the router chain where it goes, refuses
 * writes to read-only databases, and runs it on the pinned transaction or a pooled
 * DataSource. Every failure is a rejected promise, never a synchronous throw.
 */
export class OperationRunner {
  readonly #props: OperationRunnerProps;
  readonly #replicas = new ReplicaSelector();

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

  /** Runs `fn` on `target`: inside the current transaction if any, else on the pool. */
  runOn<T>(
    target: DatabaseTarget,
    method: string,
    fn: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    const translate = this.#props.translateError;
    if (!translate || target.kind !== "tenant") return this.#runOn(target, method, fn);
    return this.#runOn(target, method, fn).catch(async (error: unknown) => {
      throw (await translate(target, error)) ?? error;
    });
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
    return this.#props.blueprints.get(this.#props.registry.placementOf(entity).group)!.manager;
  }

  /**
   * The manager a synchronous operation (a query builder) on `entity` routes to. It must be
   * open already, because opening a database cannot be synchronous.
   *
   * @throws UnroutableOperationError when the database is not open yet.
   */
  syncManager(entity: EntityClass | string, method: string): EntityManager {
    const target = this.route(entity, "read", undefined, method);
    const transaction = routingContext()?.transaction;
    const manager = transaction
      ? transaction.pinnedManager(target, method)
      : this.#props.pool.peek(target)?.manager;
    if (manager) return manager;
    throw UnroutableOperationError.unsupported(
      `${method}() on "${this.#props.registry.placementOf(entity).name}" while ${target.description} is not open yet`,
      `Query builders are built synchronously; use "await repository.queryBuilder(alias)" (or "await router.dataSourceFor(Entity)") so the database is opened first.`,
    );
  }
}
