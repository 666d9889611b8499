import { assertAlias, placementDecorator, type PlacementDecorator } from "./placement";

/**
 * Places an entity in the named database alias (for example `"analytics"`).
 *
 * The alias must be configured under `databases` in `TenantRouter.create`; bootstrap fails
 * otherwise.
 *
 * @example
 * ```ts
 * @RoutedTo("analytics")
 * @Entity()
 * export class PageView { ... }
 * ```
 * @throws ConfigurationError when `alias` is not a non-empty string.
 * Called on an `EntitySchema` (`RoutedTo("analytics")(schema)`), it marks the schema and returns it.
 *
 * @throws RegistryFrozenError when applied after a TenantRouter was created.
 */
export function RoutedTo(alias: string): PlacementDecorator {
  assertAlias(alias, "RoutedTo");
  return placementDecorator({ kind: "routedTo", alias });
}
