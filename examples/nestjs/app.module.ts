import { Module, type DynamicModule } from "@nestjs/common";
import type { TenantRouterOptions } from "typeorm-router";
import { TenantRouterModule, tenantFromHeader } from "typeorm-router/nestjs";
import { Note } from "./entities/note.entity";
import { Plan } from "./entities/plan.entity";
import { HealthController } from "./health.controller";
import { NotesController } from "./notes.controller";
import { PlansController } from "./plans.controller";

/** The example application: the tenant of each request comes from its `x-tenant-id` header. */
@Module({})
export class AppModule {
  /** The application over a router built from `router`. */
  static register(router: TenantRouterOptions): DynamicModule {
    return {
      module: AppModule,
      // #region nestjs-module
      imports: [
        TenantRouterModule.forRoot({
          router, // TenantRouter.create(router) at startup; router.close() at shutdown
          tenant: { resolve: tenantFromHeader("x-tenant-id") },
        }),
        TenantRouterModule.forFeature([Note, Plan]),
      ],
      // #endregion nestjs-module
      controllers: [NotesController, PlansController, HealthController],
    };
  }
}
