import type { TenantList, TenantRegistration } from "./public-api";

/**
 * The `list`, `register` and `unregister` of a `tenants` option over the array `ids`: the router
 * lists the tenants from it, and `tenants.create` / `tenants.drop` push to it and remove from it.
 *
 * @example tenants: { ...inMemoryTenants(list), strategy: schemaPerTenant({ base }) }
 */
export function inMemoryTenants(ids: string[]): { readonly list: TenantList } & TenantRegistration {
  return {
    list: () => ids,
    register: async (tenant) => void ids.push(tenant),
    unregister: async (tenant) => void ids.splice(ids.indexOf(tenant), 1),
  };
}
