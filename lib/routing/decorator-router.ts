import { TENANT_GROUP, type EntityRegistry } from "../registry/entity-registry";
import { NoTenantContextError } from "../errors";
import {
  isTenantRef,
  type DatabaseRef,
  type RoutableEntity,
  type Router,
  type RoutingHints,
} from "./router-chain";

/**
 * The built-in rules, last in the chain: an entity goes where its decorators place it.
 *
 * - no decorator → `default`; `@RoutedTo(alias)` → that alias;
 * - `@External` → the tenant in context, or `NoTenantContextError` (never `default`);
 * - relations are allowed inside one placement group only;
 * - a migration group runs on the databases of its own placement.
 */
export class DecoratorRouter implements Router {
  readonly #registry: EntityRegistry;

  constructor(registry: EntityRegistry) {
    this.#registry = registry;
  }

  /** Where the decorators place `entity` for reads. */
  dbForRead(entity: RoutableEntity, hints: RoutingHints): DatabaseRef {
    return this.#route(entity, hints, "read");
  }

  /** Where the decorators place `entity` for writes. */
  dbForWrite(entity: RoutableEntity, hints: RoutingHints): DatabaseRef {
    return this.#route(entity, hints, "write");
  }

  /** Allows relations inside one placement group; no opinion otherwise. */
  allowRelation(a: RoutableEntity, b: RoutableEntity): boolean | undefined {
    return this.#registry.placementOf(a).group === this.#registry.placementOf(b).group
      ? true
      : undefined;
  }

  /** A group migrates the databases of its own placement: `tenant` on tenants, else its alias. */
  allowMigrate(db: DatabaseRef, group: string): boolean {
    return isTenantRef(db) ? group === TENANT_GROUP : group === db;
  }

  #route(entity: RoutableEntity, hints: RoutingHints, operation: string): DatabaseRef {
    const placement = this.#registry.placementOf(entity);
    if (!placement.external) return placement.group;
    if (hints.tenant === undefined) throw NoTenantContextError.forEntity(placement.name, operation);
    return { tenant: hints.tenant };
  }
}
