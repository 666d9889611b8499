import { placementDecorator, type PlacementDecorator } from "./placement";

/**
 * Marks an entity read-only: writes to it throw `ReadOnlyDatabaseError` unless the router
 * runs in test mode. Combine it with `@RoutedTo` to place it in another system's database.
 *
 * @example
 * ```ts
 * @ReadOnly()
 * @RoutedTo("legacy")
 * @Entity()
 * export class LegacyCustomer { ... }
 * ```
 * Called on an `EntitySchema` (`ReadOnly()(schema)`), it marks the schema and returns it.
 *
 * @throws RegistryFrozenError when applied after a TenantRouter was created.
 */
export function ReadOnly(): PlacementDecorator {
  return placementDecorator({ kind: "readOnly" });
}
