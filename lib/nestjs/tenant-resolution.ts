import type { ExecutionContext } from "@nestjs/common";

/** The HTTP request as the tenant resolvers see it (Express, Fastify or the GraphQL `req`). */
export interface TenantRequest {
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>;
  /** Set by authentication (Passport's `request.user`), when it ran. */
  readonly user?: unknown;
  readonly [key: string]: unknown;
}

/**
 * What a {@link TenantResolver} is given for one call: the request when there is one, the
 * authenticated user, the RPC payload, and the Nest `ExecutionContext` itself.
 */
export interface TenantResolutionContext {
  /** `"http"`, `"rpc"`, `"ws"` or `"graphql"`, as `ExecutionContext.getType()` says. */
  readonly type: string;
  /** The HTTP request; for GraphQL the `req` of its context. `undefined` for RPC and WebSockets. */
  readonly request: TenantRequest | undefined;
  /** `request.user`, as authentication set it (guards run before the interceptor). */
  readonly user: unknown;
  /** The RPC payload, the WebSocket message, or the GraphQL arguments. */
  readonly data: unknown;
  /** The RPC context (e.g. a `KafkaContext`), the WebSocket client, or the GraphQL context. */
  readonly transportContext: unknown;
  /** The Nest execution context, for anything else (the handler, its class, ...). */
  readonly execution: ExecutionContext;
}

/**
 * Reads the tenant id of a call. Return `undefined` (or `null`, or `""`) when the call names no
 * tenant; the id returned is validated before it is used.
 */
export type TenantResolver = (
  context: TenantResolutionContext,
) => string | null | undefined | Promise<string | null | undefined>;

/** @internal Builds the {@link TenantResolutionContext} of `execution`, for every transport. */
export function resolutionContextOf(execution: ExecutionContext): TenantResolutionContext {
  const type = execution.getType<string>();
  if (type === "http") {
    const request = execution.switchToHttp().getRequest<TenantRequest>();
    return {
      type,
      request,
      user: request?.user,
      data: undefined,
      transportContext: undefined,
      execution,
    };
  }
  if (type === "graphql") {
    // GqlExecutionContext's layout, read without loading @nestjs/graphql:
    // (root, args, context, info), with the HTTP request at context.req.
    const [, args, context] = execution.getArgs<[unknown, unknown, { req?: TenantRequest }]>();
    const request = context?.req;
    return { type, request, user: request?.user, data: args, transportContext: context, execution };
  }
  if (type === "rpc") {
    const rpc = execution.switchToRpc();
    return {
      type,
      request: undefined,
      user: undefined,
      data: rpc.getData(),
      transportContext: rpc.getContext(),
      execution,
    };
  }
  if (type === "ws") {
    const ws = execution.switchToWs();
    return {
      type,
      request: undefined,
      user: undefined,
      data: ws.getData(),
      transportContext: ws.getClient(),
      execution,
    };
  }
  return {
    type,
    request: undefined,
    user: undefined,
    data: undefined,
    transportContext: undefined,
    execution,
  };
}
