import {
  Inject,
  Injectable,
  Optional,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from "@nestjs/common";
import { Reflector } from "@nestjs/core";
import { Observable, type Subscription } from "rxjs";
import { NoTenantContextError, assertTenantId, withTenant } from "../index";
import { TENANT_ROUTER_MODULE_OPTIONS } from "./injection-tokens";
import { TENANT_OPTIONAL } from "./tenant-optional";
import type { TenantRouterModuleOptions } from "./tenant-router-module-options";
import { resolutionContextOf } from "./tenant-resolution";

/**
 * Runs each handler (with its pipes and everything it awaits) inside
 * `withTenant(resolve(call))`, for HTTP, RPC, WebSocket and GraphQL calls alike. Registered
 * globally by `TenantRouterModule`; it reads `tenant` from the module options and does nothing
 * without it.
 *
 * Interceptors run after guards, so the resolver sees the authenticated user. A call whose
 * tenant is invalid fails with `InvalidTenantIdError`; one without a tenant with
 * `NoTenantContextError`, unless `tenant.optional` or `@TenantOptional()`. The tenant is never
 * taken from anything but the resolver, and nothing falls back to `default`.
 */
@Injectable()
export class TenantInterceptor implements NestInterceptor {
  constructor(
    @Inject(TENANT_ROUTER_MODULE_OPTIONS) private readonly options: TenantRouterModuleOptions,
    @Optional() private readonly reflector?: Reflector,
  ) {}

  /** Resolves the tenant, then subscribes to the handler inside `withTenant`. */
  intercept(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    const tenantOptions = this.options.tenant;
    if (!tenantOptions) return next.handle();
    return new Observable<unknown>((subscriber) => {
      let subscription: Subscription | undefined;
      const start = async () => {
        const tenant = await tenantOptions.resolve(resolutionContextOf(execution));
        if (subscriber.closed) return;
        if (tenant === undefined || tenant === null || tenant === "") {
          if (!tenantOptions.optional && !this.#optional(execution)) {
            throw NoTenantContextError.fromRequest();
          }
          subscription = next.handle().subscribe(subscriber);
          return;
        }
        assertTenantId(tenant, "TenantInterceptor (the tenant resolved for this call)");
        // Nest binds the handler to the async context in which handle() is called, so the
        // handler, its pipes and every await they start see this tenant.
        withTenant(tenant, () => {
          subscription = next.handle().subscribe(subscriber);
        });
      };
      start().catch((error: unknown) => subscriber.error(error));
      return () => subscription?.unsubscribe();
    });
  }

  #optional(execution: ExecutionContext): boolean {
    const reflector = this.reflector ?? new Reflector();
    return (
      reflector.getAllAndOverride<boolean | undefined>(TENANT_OPTIONAL, [
        execution.getHandler(),
        execution.getClass(),
      ]) === true
    );
  }
}
