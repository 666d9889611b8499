import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency } from "@nestjs/common";
import {
  ConfigurationError,
  TenantRouter,
  type RoutingErrorCode,
  type TenantRouterOptions,
} from "../index";
import type { TenantResolver } from "./tenant-resolution";

/** How `TenantInterceptor` finds the tenant of each call. */
export interface TenantResolutionOptions {
  /**
   * Reads the tenant id of a call: from a header (`tenantFromHeader`), the authenticated user
   * (`tenantFromUser`), nestjs-cls (`() => cls.get("tenantId")`), or anything else.
   */
  readonly resolve: TenantResolver;
  /**
   * Let every call without a tenant through, with no tenant in context. Default `false`: such
   * a call fails with `NoTenantContextError` (HTTP 400), except on handlers marked
   * `@TenantOptional()`.
   */
  readonly optional?: boolean;
}

/** Options of `TenantRouterModule.forRoot`, and what the `forRootAsync` factory returns. */
export interface TenantRouterModuleOptions {
  /** The router's options (the module creates it), or a router you created. */
  readonly router: TenantRouterOptions | TenantRouter;
  /** How the tenant of each call is found. Without it the interceptor sets no tenant. */
  readonly tenant?: TenantResolutionOptions;
  /** Close the router when the application shuts down (`app.close()`). Default `true`. */
  readonly closeOnShutdown?: boolean;
  /** HTTP statuses that replace the defaults of `routingErrorStatus`, per error code. */
  readonly statuses?: Partial<Record<RoutingErrorCode, number>>;
}

/** What `forRoot` and `forRootAsync` register globally, decided when the module is declared. */
export interface TenantRouterModuleGlobals {
  /** Register `TenantInterceptor` as a global interceptor. Default `true`. */
  readonly interceptor?: boolean;
  /** Register `RoutingExceptionFilter` as a global exception filter. Default `true`. */
  readonly exceptionFilter?: boolean;
}

/** Options of `TenantRouterModule.forRootAsync`. */
export interface TenantRouterModuleAsyncOptions extends TenantRouterModuleGlobals {
  /** Modules that export the providers named in `inject`. */
  readonly imports?: ModuleMetadata["imports"];
  /** Providers passed to `useFactory`, in order (e.g. `ConfigService`, `ClsService`). */
  readonly inject?: (InjectionToken | OptionalFactoryDependency)[];
  /** Builds the module options from the injected providers. */
  // `never[]` accepts a factory with any parameter types, like Nest's own `useFactory`.
  readonly useFactory: (
    ...args: never[]
  ) => TenantRouterModuleOptions | Promise<TenantRouterModuleOptions>;
}

/**
 * @internal Checks the module options, naming the option and the fix.
 *
 * @throws ConfigurationError when an option has the wrong shape.
 */
export function validateModuleOptions(
  options: TenantRouterModuleOptions,
  where: string,
): TenantRouterModuleOptions {
  const fail = (option: string, problem: string, fix: string): never => {
    throw ConfigurationError.invalid(`${where} ${option}`, problem, fix);
  };
  if (options === null || typeof options !== "object") {
    fail("(options)", `expected an object, got ${typeof options}`, "Pass { router, tenant }.");
  }
  const { router, tenant, closeOnShutdown, statuses } = options;
  if (router === null || typeof router !== "object") {
    fail(
      "router",
      "is missing",
      "Pass the TenantRouter options (entities, databases, tenants, ...) or a TenantRouter.",
    );
  }
  if (tenant !== undefined) {
    if (tenant === null || typeof tenant !== "object" || typeof tenant.resolve !== "function") {
      fail(
        "tenant.resolve",
        "is not a function",
        'Pass tenant: { resolve: tenantFromHeader("x-tenant-id") } or your own (context) => id.',
      );
    }
    if (tenant.optional !== undefined && typeof tenant.optional !== "boolean") {
      fail(
        "tenant.optional",
        `${JSON.stringify(tenant.optional)} is not a boolean`,
        "Use true or false.",
      );
    }
  }
  if (closeOnShutdown !== undefined && typeof closeOnShutdown !== "boolean") {
    fail(
      "closeOnShutdown",
      `${JSON.stringify(closeOnShutdown)} is not a boolean`,
      "Use true or false.",
    );
  }
  for (const [code, status] of Object.entries(statuses ?? {})) {
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      fail(
        `statuses.${code}`,
        `${JSON.stringify(status)} is not an HTTP status`,
        "Use 100 to 599.",
      );
    }
  }
  return options;
}

/** @internal The router of `options`: the one given, or a new one built from its options. */
export async function routerOf(options: TenantRouterModuleOptions): Promise<TenantRouter> {
  return options.router instanceof TenantRouter
    ? options.router
    : TenantRouter.create(options.router);
}
