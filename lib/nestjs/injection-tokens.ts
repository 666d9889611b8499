import type { EntityTarget, ObjectLiteral } from "typeorm";

/** The injection token of the module's {@link TenantRouter} (a singleton). */
export const TENANT_ROUTER = Symbol.for("typeorm-router:TenantRouter");

/** The injection token of the options given to `TenantRouterModule.forRoot(Async)`. */
export const TENANT_ROUTER_MODULE_OPTIONS = Symbol.for("typeorm-router:TenantRouterModuleOptions");

const classTokens = new WeakMap<object, symbol>();
const nameTokens = new Map<string, symbol>();

/**
 * The injection token of the routed repository of `entity`, as provided by
 * `TenantRouterModule.forFeature([entity])`: one symbol per entity class (or entity name), so
 * two classes with the same name never share a provider.
 *
 * @example
 * ```ts
 * const notes = moduleRef.get<RoutedRepository<Note>>(getRoutedRepositoryToken(Note));
 * ```
 */
export function getRoutedRepositoryToken<T extends ObjectLiteral>(entity: EntityTarget<T>): symbol {
  if (typeof entity === "string") {
    let token = nameTokens.get(entity);
    if (!token) nameTokens.set(entity, (token = Symbol(`RoutedRepository<${entity}>`)));
    return token;
  }
  const key = entity as object;
  let token = classTokens.get(key);
  if (!token) {
    const name = (entity as { name?: string }).name ?? "entity";
    classTokens.set(key, (token = Symbol(`RoutedRepository<${name}>`)));
  }
  return token;
}
