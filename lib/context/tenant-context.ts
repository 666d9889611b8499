import { AsyncLocalStorage } from "node:async_hooks";
import { NoTenantContextError } from "../errors";
import { tagActiveSpan } from "../observability/tracing";
import { assertTenantId } from "./tenant-id";
import type { TransactionScope } from "./transaction-scope";

/** Read-your-writes state of one request: until when each replicated alias reads its primary. */
export interface ReadSession {
  readonly primaryUntil: Map<string, number>;
}

/** What one async context carries: the tenant, the read session and, inside a transaction, its scope. */
export interface RoutingContext {
  readonly tenant: string | undefined;
  readonly transaction: TransactionScope | undefined;
  /** Shared by nested contexts, so a write anywhere in a request makes its reads sticky. */
  readonly session: ReadSession;
  /** Inside `withPrimary`: every read goes to the primary. */
  readonly primary: boolean;
}

function newSession(): ReadSession {
  return { primaryUntil: new Map() };
}

// The one AsyncLocalStorage behind withTenant, currentTenant, requireTenant and transactions.
const storage = new AsyncLocalStorage<RoutingContext>();

/**
 * Runs `fn` with `tenant` as the current tenant, through every await, timer and promise
 * chain it starts. A nested call overrides the outer tenant for its own duration.
 *
 * @example
 * ```ts
 * await withTenant("acme", async () => {
 *   await router.getRepository(DataPoint).save({ value: 1 }); // goes to acme's database
 * });
 * ```
 * @throws InvalidTenantIdError before `fn` runs, when `tenant` is not a valid id.
 */
export function withTenant<T>(tenant: string, fn: () => T): T {
  assertTenantId(tenant, "withTenant()");
  // The span of the request (or job) that enters the tenant carries it too.
  tagActiveSpan(tenant);
  const outer = storage.getStore();
  return storage.run(
    {
      tenant,
      transaction: outer?.transaction,
      session: outer?.session ?? newSession(),
      primary: outer?.primary ?? false,
    },
    fn,
  );
}

/**
 * Runs `fn` with every read going to the primary of replicated databases (never to a read
 * replica), through every await it starts; the tenant in context is kept.
 *
 * @example
 * ```ts
 * const fresh = await withPrimary(() => router.getRepository(Order).findOneBy({ id }));
 * ```
 */
export function withPrimary<T>(fn: () => T): T {
  const outer = storage.getStore();
  return storage.run(
    {
      tenant: outer?.tenant,
      transaction: outer?.transaction,
      session: outer?.session ?? newSession(),
      primary: true,
    },
    fn,
  );
}

/** The tenant of the current async context, or `undefined` outside any `withTenant`. */
export function currentTenant(): string | undefined {
  return storage.getStore()?.tenant;
}

/**
 * The tenant of the current async context.
 *
 * @throws NoTenantContextError when no tenant is in context.
 */
export function requireTenant(): string {
  const tenant = storage.getStore()?.tenant;
  if (tenant === undefined) throw NoTenantContextError.required();
  return tenant;
}

/** @internal The whole routing context of the current async context. */
export function routingContext(): RoutingContext | undefined {
  return storage.getStore();
}

/** @internal Runs `fn` inside `transaction`, keeping the rest of the context. */
export function runInTransaction<T>(transaction: TransactionScope, fn: () => T): T {
  const outer = storage.getStore();
  return storage.run(
    {
      tenant: outer?.tenant,
      transaction,
      session: outer?.session ?? newSession(),
      primary: outer?.primary ?? false,
    },
    fn,
  );
}
