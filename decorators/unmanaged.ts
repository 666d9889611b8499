import { placementDecorator, type PlacementDecorator } from "./placement";

/** Options of {@link Unmanaged}. */
export interface UnmanagedOptions {
  /** Create the table in test databases (test mode) even though it is never migrated. */
  readonly createInTests?: boolean;
}

/**
 * Marks an entity whose table typeorm-router never creates or migrates (Django's
 * `managed = False`), for tables owned by another system. With `createInTests: true` its
 * table is created in test databases so tests can use it.
 *
 * Called on an `EntitySchema` (`Unmanaged()(schema)`), it marks the schema and returns it.
 *
 * @throws RegistryFrozenError when applied after a TenantRouter was created.
 */
export function Unmanaged(options: UnmanagedOptions = {}): PlacementDecorator {
  return placementDecorator({ kind: "unmanaged", createInTests: options.createInTests === true });
}
