import { Controller, Get } from "@nestjs/common";
import { TenantRouter } from "typeorm-router";
import { InjectTenantRouter, TenantOptional } from "typeorm-router/nestjs";

/** A health check that needs no tenant. */
@TenantOptional()
@Controller("health")
export class HealthController {
  constructor(@InjectTenantRouter() private readonly router: TenantRouter) {}

  /** The router's open DataSources. */
  @Get()
  health(): { ok: true; openTenants: number } {
    return { ok: true, openTenants: this.router.poolStats().openTenants };
  }
}
