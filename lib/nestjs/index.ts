// typeorm-router/nestjs: the NestJS module (Nest is an optional peer dependency, loaded only
// through this entry). Explicit named exports only.
export { TenantRouterModule } from "./tenant-router-module";
export type {
  TenantRouterModuleOptions,
  TenantRouterModuleAsyncOptions,
  TenantRouterModuleGlobals,
  TenantResolutionOptions,
} from "./tenant-router-module-options";
export {
  TENANT_ROUTER,
  TENANT_ROUTER_MODULE_OPTIONS,
  getRoutedRepositoryToken,
} from "./injection-tokens";
export { InjectTenantRouter } from "./inject-tenant-router";
export { InjectRoutedRepository } from "./inject-routed-repository";
export { TenantInterceptor } from "./tenant-interceptor";
export { TenantOptional } from "./tenant-optional";
export type { TenantResolver, TenantResolutionContext, TenantRequest } from "./tenant-resolution";
export { tenantFromHeader } from "./tenant-from-header";
export { tenantFromUser } from "./tenant-from-user";
export { RoutingExceptionFilter, type RoutingErrorBody } from "./routing-exception-filter";
export { ROUTING_ERROR_STATUSES, routingErrorStatus } from "./routing-error-status";
