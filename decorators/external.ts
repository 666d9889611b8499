import { placementDecorator } from "./placement";

/**
 * Places an entity in every tenant database (or schema), never in `default`.
 *
 * Using it with no tenant in context throws `NoTenantContextError`; it never falls back.
 *
 * @example
 * ```ts
 * @External()
 * @Entity()
 * export class DataPoint { ... }
 * ```
 * @throws RegistryFrozenError when applied after a TenantRouter was created.
 */
export function External(): ClassDecorator {
  return placementDecorator({ kind: "external" });
}
