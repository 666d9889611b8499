import type { EntitySchema } from "typeorm";
import { ConfigurationError } from "../errors";
import { entityNameOf } from "../registry/entity-name";

/** A class constructor used as an entity target. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type EntityClass = Function;

/**
 * An entity as routers see it: its class, or, for an entity defined by an `EntitySchema`, the
 * schema object itself (the one listed in `entities`), whether or not it has a `target` class.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RoutableEntity = EntityClass | EntitySchema<any>;

/** The kind of operation being routed. */
export type Operation = "read" | "write";

/** A reference to one tenant's database. */
export interface TenantRef {
  readonly tenant: string;
}

/** Where something goes: a configured alias (`"default"`, `"analytics"`) or a tenant. */
export type DatabaseRef = string | TenantRef;

/** What a router is told about the call it is asked about (Django's `**hints`). */
export interface RoutingHints {
  /** The tenant in context, if any. */
  readonly tenant: string | undefined;
  /** What is being routed. */
  readonly operation: Operation | "relation" | "migrate";
  /** The entity instance being written, when there is one. */
  readonly instance?: object;
  /** Whether the router runs in test mode. */
  readonly testMode: boolean;
}

/** An answer that is not `undefined` or `null`; anything else means "no opinion". */
type Answer<T> = T | undefined | null;

/**
 * A custom router: a plain object or class instance with any of these methods. Returning
 * `undefined` (or `null`) means "no opinion"; the first definite answer in the chain wins.
 * Methods must be synchronous: they run on every routed call.
 */
export interface Router {
  /** The database to read `entity` from. */
  dbForRead?(entity: RoutableEntity, hints: RoutingHints): Answer<DatabaseRef>;
  /** The database to write `entity` to. */
  dbForWrite?(entity: RoutableEntity, hints: RoutingHints): Answer<DatabaseRef>;
  /** Whether a relation between `a` and `b` is allowed. */
  allowRelation?(a: RoutableEntity, b: RoutableEntity, hints: RoutingHints): Answer<boolean>;
  /** Whether migrations of `group` may run on database `db`. */
  allowMigrate?(db: DatabaseRef, group: string, hints: RoutingHints): Answer<boolean>;
}

/** True when `ref` names a tenant rather than an alias. */
export function isTenantRef(ref: DatabaseRef): ref is TenantRef {
  return typeof ref === "object";
}

/**
 * The Django-style chain: routers are asked in order and the first definite answer wins.
 * `TenantRouter` puts the user's routers first and the decorator rules last.
 */
export class RouterChain {
  readonly #routers: readonly Router[];

  constructor(routers: readonly Router[]) {
    this.#routers = Object.freeze([...routers]);
  }

  /** The first definite read route for `entity`, or `undefined`. */
  dbForRead(entity: RoutableEntity, hints: RoutingHints): DatabaseRef | undefined {
    return this.#route("dbForRead", entity, hints);
  }

  /** The first definite write route for `entity`, or `undefined`. */
  dbForWrite(entity: RoutableEntity, hints: RoutingHints): DatabaseRef | undefined {
    return this.#route("dbForWrite", entity, hints);
  }

  /** The first definite answer on a relation between `a` and `b`, or `undefined`. */
  allowRelation(a: RoutableEntity, b: RoutableEntity, hints: RoutingHints): boolean | undefined {
    for (const [index, router] of this.#routers.entries()) {
      const answer = router.allowRelation?.(a, b, hints);
      if (answer !== undefined && answer !== null)
        return checkBoolean(answer, index, "allowRelation");
    }
    return undefined;
  }

  /** The first definite answer on migrating `group` on `db`, or `undefined`. */
  allowMigrate(db: DatabaseRef, group: string, hints: RoutingHints): boolean | undefined {
    for (const [index, router] of this.#routers.entries()) {
      const answer = router.allowMigrate?.(db, group, hints);
      if (answer !== undefined && answer !== null)
        return checkBoolean(answer, index, "allowMigrate");
    }
    return undefined;
  }

  #route(
    method: "dbForRead" | "dbForWrite",
    entity: RoutableEntity,
    hints: RoutingHints,
  ): DatabaseRef | undefined {
    const routers = this.#routers;
    for (let index = 0; index < routers.length; index++) {
      const answer = routers[index][method]?.(entity, hints);
      if (answer === undefined || answer === null) continue;
      if (
        typeof answer === "string" ||
        (typeof answer === "object" && typeof answer.tenant === "string")
      ) {
        return answer;
      }
      throw ConfigurationError.invalid(
        `routers[${index}].${method}`,
        `it returned ${JSON.stringify(answer)} for entity "${entityNameOf(entity)}"`,
        `Return an alias string, { tenant: id }, or undefined for "no opinion".`,
      );
    }
    return undefined;
  }
}

function checkBoolean(answer: unknown, index: number, method: string): boolean {
  if (typeof answer === "boolean") return answer;
  throw ConfigurationError.invalid(
    `routers[${index}].${method}`,
    `it returned ${JSON.stringify(answer)}`,
    `Return true, false, or undefined for "no opinion".`,
  );
}
