import { Module, type DynamicModule, type Provider } from "@nestjs/common";
import { APP_FILTER, APP_INTERCEPTOR } from "@nestjs/core";
import type { EntityTarget, ObjectLiteral } from "typeorm";
import type { TenantRouter } from "../index";
import {
  TENANT_ROUTER,
  TENANT_ROUTER_MODULE_OPTIONS,
  getRoutedRepositoryToken,
} from "./injection-tokens";
import { RoutingExceptionFilter } from "./routing-exception-filter";
import { TenantInterceptor } from "./tenant-interceptor";
import {
  routerOf,
  validateModuleOptions,
  type TenantRouterModuleAsyncOptions,
  type TenantRouterModuleGlobals,
  type TenantRouterModuleOptions,
} from "./tenant-router-module-options";
import { TenantRouterShutdown } from "./tenant-router-shutdown";

/**
 * The NestJS module of typeorm-router: one `TenantRouter` for the whole application, routed
 * repositories as singleton providers, a global interceptor that runs each call in its
 * tenant, and a global filter that turns routing errors into HTTP statuses.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     TenantRouterModule.forRoot({
 *       router: { entities: [Note], databases: { default: ... }, tenants: { ... } },
 *       tenant: { resolve: tenantFromHeader("x-tenant-id") },
 *     }),
 *     TenantRouterModule.forFeature([Note]),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */
@Module({})
export class TenantRouterModule {
  /**
   * Creates the router from `options.router` (or uses the router given), provides it globally
   * (`@InjectTenantRouter()`), and closes it when the application shuts down.
   *
   * @throws ConfigurationError when the options have the wrong shape.
   */
  static forRoot(options: TenantRouterModuleOptions & TenantRouterModuleGlobals): DynamicModule {
    validateModuleOptions(options, "TenantRouterModule.forRoot");
    return rootModule({ provide: TENANT_ROUTER_MODULE_OPTIONS, useValue: options }, options);
  }

  /**
   * Like {@link forRoot}, with the options built by `useFactory` from injected providers
   * (a `ConfigService`, a `ClsService`, ...).
   *
   * @example
   * ```ts
   * TenantRouterModule.forRootAsync({
   *   inject: [ClsService],
   *   useFactory: (cls: ClsService) => ({ router: options, tenant: { resolve: () => cls.get("tenantId") } }),
   * })
   * ```
   */
  static forRootAsync(options: TenantRouterModuleAsyncOptions): DynamicModule {
    const module = rootModule(
      {
        provide: TENANT_ROUTER_MODULE_OPTIONS,
        inject: options.inject ?? [],
        useFactory: async (...args: unknown[]) =>
          validateModuleOptions(
            await options.useFactory(...(args as never[])),
            "TenantRouterModule.forRootAsync",
          ),
      },
      options,
    );
    return { ...module, imports: [...(options.imports ?? [])] };
  }

  /**
   * Provides the routed repository of each entity, for `@InjectRoutedRepository(Entity)`.
   * Each is the router's one stable repository: a singleton that routes every call.
   *
   * @throws EntityNotDiscoveredError at application start, for an entity the router did not discover.
   */
  static forFeature(entities: readonly EntityTarget<ObjectLiteral>[]): DynamicModule {
    const providers: Provider[] = entities.map((entity) => ({
      provide: getRoutedRepositoryToken(entity),
      inject: [TENANT_ROUTER],
      useFactory: (router: TenantRouter) => router.getRepository(entity),
    }));
    return {
      module: TenantRouterModule,
      providers,
      exports: providers.map((provider) => (provider as { provide: symbol }).provide),
    };
  }
}

/** The module of forRoot / forRootAsync: the router, its options, shutdown, interceptor and filter. */
function rootModule(optionsProvider: Provider, globals: TenantRouterModuleGlobals): DynamicModule {
  const providers: Provider[] = [
    optionsProvider,
    {
      provide: TENANT_ROUTER,
      inject: [TENANT_ROUTER_MODULE_OPTIONS],
      useFactory: routerOf,
    },
    TenantRouterShutdown,
  ];
  if (globals.interceptor !== false) {
    providers.push({ provide: APP_INTERCEPTOR, useClass: TenantInterceptor });
  }
  if (globals.exceptionFilter !== false) {
    providers.push({ provide: APP_FILTER, useClass: RoutingExceptionFilter });
  }
  return {
    module: TenantRouterModule,
    global: true,
    providers,
    exports: [TENANT_ROUTER, TENANT_ROUTER_MODULE_OPTIONS],
  };
}
