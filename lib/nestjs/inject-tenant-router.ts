import { Inject } from "@nestjs/common";
import { TENANT_ROUTER } from "./injection-tokens";

/**
 * Injects the {@link TenantRouter} of `TenantRouterModule.forRoot(Async)` (a singleton).
 *
 * @example
 * ```ts
 * constructor(@InjectTenantRouter() private readonly router: TenantRouter) {}
 * ```
 */
export function InjectTenantRouter(): PropertyDecorator & ParameterDecorator {
  return Inject(TENANT_ROUTER);
}
