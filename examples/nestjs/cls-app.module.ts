import { Module, type DynamicModule } from "@nestjs/common";
import { ClsModule, ClsService } from "nestjs-cls";
import type { TenantRouterOptions } from "typeorm-router";
import { TenantRouterModule } from "typeorm-router/nestjs";
import { Note } from "./entities/note.entity";
import { Plan } from "./entities/plan.entity";
import { HealthController } from "./health.controller";
import { NotesController } from "./notes.controller";
import { PlansController } from "./plans.controller";

/**
 * The same application with nestjs-cls: its middleware puts the tenant in the CLS store, and
 * the router's interceptor reads it from there. (nestjs-cls has an AsyncLocalStorage of its
 * own, so a tenant set only there is not in typeorm-router's context: the interceptor is the
 * bridge.)
 */
@Module({})
export class ClsAppModule {
  /** The application over a router built from `router`. */
  static register(router: TenantRouterOptions): DynamicModule {
    return {
      module: ClsAppModule,
      // #region nestjs-cls
      imports: [
        ClsModule.forRoot({
          global: true,
          middleware: {
            mount: true,
            setup: (cls, request: { headers: Record<string, string | undefined> }) =>
              cls.set("tenantId", request.headers["x-tenant-id"]),
          },
        }),
        TenantRouterModule.forRootAsync({
          inject: [ClsService],
          useFactory: (cls: ClsService) => ({
            router,
            tenant: { resolve: () => cls.get<string | undefined>("tenantId") },
          }),
        }),
        TenantRouterModule.forFeature([Note, Plan]),
      ],
      // #endregion nestjs-cls
      controllers: [NotesController, PlansController, HealthController],
    };
  }
}
