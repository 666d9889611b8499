import { Inject } from "@nestjs/common";
import type { EntityTarget, ObjectLiteral } from "typeorm";
import { getRoutedRepositoryToken } from "./injection-tokens";

/**
 * Injects the routed repository of `entity`, provided by `TenantRouterModule.forFeature`.
 *
 * The repository is a singleton: it resolves the database on every call, from the tenant of
 * the request that is running (see `TenantInterceptor`), so no request scope is needed.
 *
 * @example
 * ```ts
 * constructor(@InjectRoutedRepository(Note) private readonly notes: RoutedRepository<Note>) {}
 * ```
 */
export function InjectRoutedRepository<T extends ObjectLiteral>(
  entity: EntityTarget<T>,
): PropertyDecorator & ParameterDecorator {
  return Inject(getRoutedRepositoryToken(entity));
}
