import type { RoutingErrorCode } from "../index";

/**
 * The HTTP status each error code maps to. A code that is the client's doing is a 4xx: an
 * invalid tenant id or a request with no tenant is 400, an unknown tenant 404, a write to a
 * read-only database 403, a tenant that already exists 409. A database that is exhausted,
 * unreachable or shutting down is 503. Every other code is a bug or a misconfiguration: 500
 * (also the status of a code this version does not know, so a new code never reaches a client
 * as a 4xx with details it should not see). Every code is listed: the compiler checks it.
 */
export const ROUTING_ERROR_STATUSES: { readonly [code in RoutingErrorCode]?: number } =
  Object.freeze({
    INVALID_TENANT_ID: 400,
    NO_TENANT_CONTEXT: 400,
    CONFIRMATION_REQUIRED: 400,
    READ_ONLY_DATABASE: 403,
    UNKNOWN_TENANT: 404,
    TENANT_EXISTS: 409,
    POOL_EXHAUSTED: 503,
    DATASOURCE_INIT_FAILED: 503,
    DATABASE_UNAVAILABLE: 503,
    ROUTER_CLOSED: 503,
    MIGRATION_LOCKED: 503,
    BOOTSTRAP_FAILED: 500,
    INVALID_CONFIGURATION: 500,
    UNKNOWN_DATABASE: 500,
    ENTITY_NOT_DISCOVERED: 500,
    CROSS_DATABASE_TRANSACTION: 500,
    UNROUTABLE_OPERATION: 500,
    REGISTRY_FROZEN: 500,
    MIGRATION_ROUTING: 500,
    MIGRATION_FAILED: 500,
    UNKNOWN_MIGRATION: 500,
    RESERVED_STORAGE: 500,
    UNOWNED_STORAGE: 500,
    NAME_TOO_LONG: 500,
    MIGRATION_INTERRUPTED: 500,
  } satisfies { readonly [code in RoutingErrorCode]: number });

/**
 * The HTTP status of a routing error `code`: `overrides[code]` when given, else
 * {@link ROUTING_ERROR_STATUSES}, else 500 for a code this version does not know.
 */
export function routingErrorStatus(
  code: RoutingErrorCode,
  overrides?: Partial<Record<RoutingErrorCode, number>>,
): number {
  return overrides?.[code] ?? ROUTING_ERROR_STATUSES[code] ?? 500;
}
