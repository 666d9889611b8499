import type { DataSource, EntityMetadata } from "typeorm";
import { TENANT_GROUP, type EntityRegistry } from "../registry/entity-registry";

/**
 * A never-connected DataSource whose metadata is every placement group's own, for query
 * builders that name their entity only later (`manager.createQueryBuilder().update(X)`,
 * `.insert().into(X)`, `.select().from(X, "x")`): whatever entity the builder names, its
 * metadata (and so its table path) is the one of its placement, and the builder then routes
 * by that entity when it runs. Built on the tenant group's DataSource (else `default`'s);
 * groups on another driver are left out, since their SQL would be written for the wrong one.
 * `blueprints` holds at least one group (the router builds one even with no entity).
 */
export function createUnionDataSource(
  blueprints: ReadonlyMap<string, DataSource>,
  registry: EntityRegistry,
): DataSource {
  const base = blueprints.get(TENANT_GROUP) ?? blueprints.get("default") ?? first(blueprints);
  const metadatas = new Map<unknown, EntityMetadata>();
  for (const [group, blueprint] of blueprints) {
    if (blueprint.options.type !== base.options.type) continue;
    for (const metadata of blueprint.entityMetadatas) {
      const target = metadata.target;
      const owner = registry.isPlaced(target as never)
        ? registry.placementOf(target as never).group
        : group;
      if (owner === group && !metadatas.has(target)) metadatas.set(target, metadata);
    }
  }
  const union = Object.create(base) as DataSource;
  Object.defineProperties(union, {
    entityMetadatas: { value: [...metadatas.values()] },
    entityMetadatasMap: { value: metadatas },
  });
  let manager: DataSource["manager"] | undefined;
  Object.defineProperty(union, "manager", {
    get: () => (manager ??= union.createEntityManager()),
  });
  return union;
}

function first(blueprints: ReadonlyMap<string, DataSource>): DataSource {
  return blueprints.values().next().value!;
}
