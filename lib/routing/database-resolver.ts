import { aliasTarget, tenantTarget, type DatabaseTarget } from "./database-target";
import type { NormalizedDatabase } from "../config/router-options";
import { ConfigurationError, UnknownDatabaseError } from "../errors";
import type { DatabaseRef, Operation, RoutableEntity, RouterChain } from "./router-chain";
import { entityNameOf } from "../registry/entity-name";
import { assertTenantId } from "../context/tenant-id";

/** Props of {@link DatabaseResolver}. */
export interface DatabaseResolverProps {
  /** The user's routers followed by the decorator rules. */
  readonly chain: RouterChain;
  readonly databases: ReadonlyMap<string, NormalizedDatabase>;
  readonly tenantsConfigured: boolean;
  readonly testMode: boolean;
}

/** Turns routing answers into validated database targets. */
export class DatabaseResolver {
  readonly #chain: RouterChain;
  readonly #aliases: ReadonlyMap<string, DatabaseTarget>;
  readonly #tenantsConfigured: boolean;
  readonly #testMode: boolean;
  // Validated, frozen targets per tenant id: one regex test and one allocation per tenant,
  // and a stable `key` string whose hash the pool's Map lookup computes once.
  readonly #tenantTargets = new Map<string, DatabaseTarget>();

  constructor(props: DatabaseResolverProps) {
    this.#chain = props.chain;
    this.#aliases = new Map(
      [...props.databases.values()].map((db) => [
        db.alias,
        // Test databases have no replicas: test mode routes every read to the one test copy.
        aliasTarget(db.alias, db.readOnly, {
          replicas: props.testMode ? 0 : db.replicas.length,
          stickyMs: db.stickyMs,
        }),
      ]),
    );
    this.#tenantsConfigured = props.tenantsConfigured;
    this.#testMode = props.testMode;
  }

  /** The configured aliases, `default` first. */
  get aliases(): readonly DatabaseTarget[] {
    return [...this.#aliases.values()];
  }

  /**
   * Where `operation` on `entity` goes, asking the router chain.
   *
   * @throws NoTenantContextError, UnknownDatabaseError or InvalidTenantIdError.
   */
  route(
    entity: RoutableEntity,
    operation: Operation,
    tenant: string | undefined,
    instance: object | undefined,
  ): DatabaseTarget {
    const hints = { tenant, operation, instance, testMode: this.#testMode };
    const ref =
      operation === "read"
        ? this.#chain.dbForRead(entity, hints)
        : this.#chain.dbForWrite(entity, hints);
    // The decorator router, last in the chain, answers for every discovered entity.
    if (typeof ref === "object") {
      const cached = this.#tenantTargets.get(ref.tenant);
      if (cached) return cached;
    }
    return this.target(ref!, `the ${operation} route of entity "${entityNameOf(entity)}"`);
  }

  /**
   * The target a reference names.
   *
   * @throws UnknownDatabaseError for an alias that is not configured.
   * @throws InvalidTenantIdError for an invalid tenant id.
   */
  target(ref: DatabaseRef, where: string): DatabaseTarget {
    if (typeof ref === "string") {
      const target = this.#aliases.get(ref);
      if (!target) throw UnknownDatabaseError.forAlias(ref, [...this.#aliases.keys()], where);
      return target;
    }
    assertTenantId(ref?.tenant, where);
    if (!this.#tenantsConfigured) {
      throw ConfigurationError.invalid(
        "tenants",
        `${where} names tenant "${ref.tenant}", but no tenants are configured`,
        "Add tenants: { list, options } to TenantRouter.create.",
      );
    }
    let target = this.#tenantTargets.get(ref.tenant);
    if (!target) {
      if (this.#tenantTargets.size >= 16_384) this.#tenantTargets.clear();
      target = Object.freeze(tenantTarget(ref.tenant));
      this.#tenantTargets.set(ref.tenant, target);
    }
    return target;
  }
}
