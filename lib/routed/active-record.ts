import {
  BaseEntity,
  type DataSource,
  type EntityTarget,
  type ObjectLiteral,
  type Repository,
} from "typeorm";
import type { EntityClass, RoutableEntity } from "../routing/router-chain";

/** What Active Record routing needs from the router. */
export interface ActiveRecordProps {
  /** Every discovered entity; the classes extending `BaseEntity` are routed. */
  readonly entities: readonly RoutableEntity[];
  /** The routing DataSource of an entity's placement group. */
  readonly dataSourceOf: (entity: EntityClass) => DataSource;
  /** The router's routed repository of an entity. */
  readonly getRepository: <T extends ObjectLiteral>(target: EntityTarget<T>) => Repository<T>;
}

/**
 * Routes Active Record. TypeORM's `BaseEntity` statics (and instance `save()`, `remove()`,
 * `reload()`) all go through `Entity.dataSource.getRepository(Entity)`, where `dataSource` is
 * whichever DataSource called `useDataSource` last (every `initialize()` does): with one
 * DataSource per tenant that is a silent write into another tenant. Here each discovered
 * `BaseEntity` subclass gets, while the router is open, a `dataSource` whose `getRepository`
 * is the router's routed repository, so each call routes like `router.getRepository(Entity)`
 * (an `@External` entity with no tenant in context throws `NoTenantContextError`). Writes of
 * `useDataSource` are ignored meanwhile.
 *
 * @returns a function that takes the routing off again (when the router closes).
 */
export function routeActiveRecord(props: ActiveRecordProps): () => void {
  const routed: EntityClass[] = [];
  for (const discovered of props.entities) {
    // An EntitySchema's `target` class may be an Active Record class too.
    const entity: unknown =
      typeof discovered === "function" ? discovered : discovered.options.target;
    if (typeof entity !== "function" || !(entity.prototype instanceof BaseEntity)) continue;
    const dataSource = Object.create(props.dataSourceOf(entity), {
      getRepository: { value: props.getRepository },
    }) as DataSource;
    Object.defineProperty(entity, "dataSource", {
      configurable: true,
      get: () => dataSource,
      set: () => undefined,
    });
    routed.push(entity);
  }
  return () => {
    for (const entity of routed) delete (entity as { dataSource?: unknown }).dataSource;
  };
}
