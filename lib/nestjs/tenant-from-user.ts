import type { TenantResolver } from "./tenant-resolution";

/**
 * A {@link TenantResolver} that reads the tenant id from a field of the authenticated user
 * (`request.user[field]`, as Passport sets it). Guards run before interceptors, so the user is
 * there when the tenant is resolved; no request-scoped provider is involved.
 *
 * @example
 * ```ts
 * tenant: { resolve: tenantFromUser("tenantId") }
 * ```
 */
export function tenantFromUser(field: string): TenantResolver {
  return ({ user }) => {
    if (user === null || typeof user !== "object") return undefined;
    const value = (user as Record<string, unknown>)[field];
    if (value === undefined || value === null) return undefined;
    // A non-string id (a number, an object) fails validation with InvalidTenantIdError.
    return value as string;
  };
}
