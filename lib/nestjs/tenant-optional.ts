import { SetMetadata } from "@nestjs/common";

/** @internal The metadata key set by {@link TenantOptional}. */
export const TENANT_OPTIONAL = "typeorm-router:tenant-optional";

/**
 * Marks a controller or handler whose requests may carry no tenant (a health check, a
 * sign-up page): `TenantInterceptor` then runs it with no tenant in context when the resolver
 * finds none, instead of failing with `NoTenantContextError`. A tenant that is found is still
 * validated and set.
 *
 * @example
 * ```ts
 * @TenantOptional()
 * @Get("health")
 * health() { return { ok: true }; }
 * ```
 */
export function TenantOptional(): ClassDecorator & MethodDecorator {
  return SetMetadata(TENANT_OPTIONAL, true);
}
