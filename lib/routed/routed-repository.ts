import {
  Repository,
  type EntityMetadata,
  type EntityTarget,
  type ObjectLiteral,
  type QueryRunner,
  type SelectQueryBuilder,
} from "typeorm";
import type { OperationRunner } from "./operation-runner";
import type { RoutedEntityManager } from "./routed-entity-manager";
import type { EntityClass } from "../routing/router-chain";

/**
 * A Repository whose every call is routed by the router: it is one stable object that
 * resolves the DataSource per call (reads through `dbForRead`, writes through `dbForWrite`,
 * inside the current transaction when there is one). `instanceof Repository` is true and
 * `.extend()` builds routed custom repositories.
 */
export class RoutedRepository<Entity extends ObjectLiteral> extends Repository<Entity> {
  /** @internal Built by TenantRouter; `.extend()` calls it with the same arguments. */
  constructor(
    target: EntityTarget<Entity>,
    manager: RoutedEntityManager,
    queryRunner?: QueryRunner,
  ) {
    super(target, manager, queryRunner);
  }

  /** The entity's metadata, from a never-connected DataSource of its placement. */
  override get metadata(): EntityMetadata {
    return (this.manager as RoutedEntityManager).metadataOf(this.target);
  }

  /**
   * A query builder on the database this entity reads from. The database must already be
   * open (query builders are synchronous); `queryBuilder()` opens it first.
   *
   * @throws UnroutableOperationError when the database is not open yet.
   */
  override createQueryBuilder(alias?: string): SelectQueryBuilder<Entity> {
    return this.manager.createQueryBuilder<Entity>(this.target, alias ?? this.metadata.targetName);
  }

  /** Opens the database this entity reads from, then returns a query builder on it. */
  async queryBuilder(alias?: string): Promise<SelectQueryBuilder<Entity>> {
    const name = alias ?? this.metadata.targetName;
    return this.#runner().run(this.#entity(), "read", undefined, "queryBuilder", async (manager) =>
      manager.createQueryBuilder<Entity>(this.target, name),
    );
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
    return (this.manager as RoutedEntityManager).runner;
  }
}
