import type { ObjectLiteral } from "typeorm";
import type { EntityClass } from "./router-chain";
import type { TenantRouter } from "./tenant-router";

/**
 * A tenant list backed by a table: every row of `entity` (placed in an alias such as
 * `default`) registers one tenant, whose id is the `column` property.
 *
 * @example
 * ```ts
 * tenants: { list: tenantsFromEntity(Project, "slug"), options: (t) => ({ ... }) }
 * ```
 */
export function tenantsFromEntity<T extends ObjectLiteral>(
  entity: EntityClass & { prototype: T },
  column: keyof T & string,
): (router: TenantRouter) => Promise<string[]> {
  return async (router) => {
    const rows = await router
      .getRepository<T>(entity)
      .find({ select: { [column]: true } as never });
    return rows.map((row) => String(row[column]));
  };
}
