import type { DeepPartial, ObjectLiteral } from "typeorm";
import type { EntityClass } from "../routing/router-chain";
import type { TenantRouter } from "../tenant-router";

/** Options of {@link tenantsFromEntity}. */
export interface TenantsFromEntityOptions<T> {
  /** The other columns of a row inserted by `router.tenants.create(tenant)`. */
  readonly defaults?: (tenant: string) => DeepPartial<T>;
}

/**
 * A tenant directory backed by a table: every row of `entity` (placed in an alias such as
 * `default`) registers one tenant, whose id is the `column` property. Spread it into
 * `tenants`; `router.tenants.create/drop` then insert and delete the rows.
 *
 * @example
 * ```ts
 * tenants: { ...tenantsFromEntity(Project, "slug"), options: (t) => ({ ... }) }
 * ```
 */
export function tenantsFromEntity<T extends ObjectLiteral>(
  entity: EntityClass & { prototype: T },
  column: keyof T & string,
  options: TenantsFromEntityOptions<NoInfer<T>> = {},
): {
  list: (router: TenantRouter) => Promise<string[]>;
  register: (tenant: string, router: TenantRouter) => Promise<void>;
  unregister: (tenant: string, router: TenantRouter) => Promise<void>;
} {
  return {
    list: async (router) => {
      const rows = await router
        .getRepository<T>(entity)
        .find({ select: { [column]: true } as never });
      return rows.map((row) => String(row[column]));
    },
    register: async (tenant, router) => {
      const row = { ...options.defaults?.(tenant), [column]: tenant } as DeepPartial<T>;
      await router.getRepository<T>(entity).save(row);
    },
    unregister: async (tenant, router) => {
      await router.getRepository<T>(entity).delete({ [column]: tenant } as never);
    },
  };
}
