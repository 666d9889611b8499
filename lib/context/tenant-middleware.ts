import { NoTenantContextError } from "../errors";
import { withTenant } from "./tenant-context";
import { assertTenantId } from "./tenant-id";

/** Options of {@link tenantMiddleware}. */
export interface TenantMiddlewareOptions<Request> {
  /**
   * Reads the tenant id from a request (Express `req`, or Koa `ctx`), e.g. from a header or
   * the host name. Return `undefined` when the request names no tenant.
   */
  readonly resolve: (request: Request) => string | undefined | Promise<string | undefined>;
  /** Let requests without a tenant through, with no tenant in context. Default `false`. */
  readonly optional?: boolean;
}

/** An Express-style `(req, res, next)` middleware that is also a Koa-style `(ctx, next)` one. */
export interface TenantMiddleware<Request> {
  (request: Request, response: unknown, next: (error?: unknown) => void): void;
  (context: Request, next: () => Promise<unknown>): Promise<unknown>;
}

/**
 * A middleware that runs the rest of the request inside `withTenant(resolve(request))`.
 *
 * Works with Express-style apps (`app.use(mw)`, errors go to `next(error)`) and Koa-style
 * apps (`app.use(mw)`, errors are thrown). An invalid id fails the request with
 * `InvalidTenantIdError`; a missing one with `NoTenantContextError` unless `optional`.
 *
 * @example
 * ```ts
 * app.use(tenantMiddleware({ resolve: (req) => req.headers["x-tenant"] as string | undefined }));
 * ```
 */
export function tenantMiddleware<Request = unknown>(
  options: TenantMiddlewareOptions<Request>,
): TenantMiddleware<Request> {
  const enter = async <T>(request: Request, next: () => T): Promise<T> => {
    const tenant = await options.resolve(request);
    if (tenant === undefined || tenant === null || tenant === "") {
      if (options.optional) return next();
      throw NoTenantContextError.fromRequest();
    }
    assertTenantId(tenant, "tenantMiddleware (resolved from the request)");
    return withTenant(tenant, next);
  };
  function middleware(request: Request, second: unknown, third?: unknown): unknown {
    if (typeof third === "function") {
      const next = third as (error?: unknown) => void;
      enter(request, () => next()).catch((error: unknown) => next(error));
      return undefined;
    }
    return enter(request, second as () => Promise<unknown>);
  }
  return middleware as TenantMiddleware<Request>;
}
