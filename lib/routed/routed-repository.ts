import {
  Repository,
  type EntityMetadata,
  type EntityTarget,
  type ObjectLiteral,
  type QueryRunner,
  type SelectQueryBuilder,
} from "typeorm";
import type { EntityManager } from "typeorm";
import type { OperationRunner } from "./operation-runner";
import type { EntityClass } from "../routing/router-chain";

/** What a routed repository needs from its manager (the routed manager provides it). */
export interface RoutingManager extends EntityManager {
  /** The runner routed calls share. */
  readonly runner: OperationRunner;
  /** The metadata of `target`, from its placement's metadata. */
  metadataOf(target: EntityTarget<ObjectLiteral>): EntityMetadata;
}

/**
 * A Repository whose every call is routed by the router: it is one stable object that
 * resolves the DataSource per call (reads through `dbForRead`, writes through `dbForWrite`,
 * inside the current transaction when there is one). `instanceof Repository` is true and
 * `.extend()` builds routed custom repositories.
 */
export class RoutedRepository<Entity extends ObjectLiteral> extends Repository<Entity> {
  /** @internal Built by TenantRouter; `.extend()` calls it with the same arguments. */
  constructor(target: EntityTarget<Entity>, manager: RoutingManager, queryRunner?: QueryRunner) {
    super(target, manager, queryRunner);
  }

  /** The entity's metadata, from a never-connected DataSource of its placement. */
  override get metadata(): EntityMetadata {
    return (this.manager as RoutingManager).metadataOf(this.target);
  }

  /**
   * A query builder for this entity. It routes when it runs (reads through `dbForRead`,
   * writes through `dbForWrite`, in the context of that moment), so it can be built anywhere,
   * whether or not the database is open yet.
   */
  override createQueryBuilder(
    alias?: string,
    queryRunner?: QueryRunner,
  ): SelectQueryBuilder<Entity> {
    return this.manager.createQueryBuilder<Entity>(
      this.target,
      alias ?? this.metadata.targetName,
      queryRunner ?? this.queryRunner,
    );
  }

  /**
   * The same as {@link createQueryBuilder}, as a promise (kept from earlier versions, when a
   * builder needed its database open first).
   */
  queryBuilder(alias?: string): Promise<SelectQueryBuilder<Entity>> {
    try {
      return Promise.resolve(this.createQueryBuilder(alias));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Runs raw SQL on the database this entity is written to. */
  override query<T = unknown>(query: string, parameters?: unknown[]): Promise<T> {
    return this.#runner().run(this.#entity(), "write", undefined, "query", (manager) =>
      manager.query<T>(query, parameters),
    );
  }

  /** Runs a tagged-template SQL query on the database this entity is written to. */
  override sql<T = unknown>(strings: TemplateStringsArray, ...values: unknown[]): Promise<T> {
    return this.#runner().run(this.#entity(), "write", undefined, "sql", (manager) =>
      manager.sql<T>(strings, ...values),
    );
  }

  #entity(): EntityClass | string {
    return this.target as EntityClass | string;
  }

  #runner(): OperationRunner {
    return (this.manager as RoutingManager).runner;
  }
}
