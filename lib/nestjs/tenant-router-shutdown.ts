import { Inject, Injectable, type OnApplicationShutdown } from "@nestjs/common";
import type { TenantRouter } from "../index";
import { TENANT_ROUTER, TENANT_ROUTER_MODULE_OPTIONS } from "./injection-tokens";
import type { TenantRouterModuleOptions } from "./tenant-router-module-options";

/**
 * @internal Closes the module's router when the application shuts down (`app.close()`, or a
 * signal with `enableShutdownHooks()`), after every module's `onModuleDestroy` and
 * `beforeApplicationShutdown`, so providers can still use the router while they stop.
 */
@Injectable()
export class TenantRouterShutdown implements OnApplicationShutdown {
  constructor(
    @Inject(TENANT_ROUTER) private readonly router: TenantRouter,
    @Inject(TENANT_ROUTER_MODULE_OPTIONS) private readonly options: TenantRouterModuleOptions,
  ) {}

  /** Closes every connection the router opened, unless `closeOnShutdown: false`. */
  async onApplicationShutdown(): Promise<void> {
    if (this.options.closeOnShutdown === false) return;
    await this.router.close();
  }
}
