import type { TenantResolver } from "./tenant-resolution";

/**
 * A {@link TenantResolver} that reads the tenant id from an HTTP header (HTTP and GraphQL
 * over HTTP). A header sent twice resolves to both values, which fails validation with
 * `InvalidTenantIdError`: it never picks one of them.
 *
 * @example
 * ```ts
 * TenantRouterModule.forRoot({ router: options, tenant: { resolve: tenantFromHeader("x-tenant-id") } })
 * ```
 */
export function tenantFromHeader(name: string): TenantResolver {
  const header = name.toLowerCase();
  return ({ request }) => {
    const value = request?.headers?.[header];
    if (Array.isArray(value)) return value.length === 1 ? value[0] : value.join(",");
    return value;
  };
}
