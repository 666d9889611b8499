import type { DatabaseResolver } from "./database-resolver";
import { tenantTarget, type DatabaseTarget } from "./database-target";
import { DEFAULT_ALIAS } from "../registry/entity-registry";
import { ConfigurationError } from "../errors";
import { assertTenantId } from "../context/tenant-id";

/** The tenants that exist, as the tenant directory knows them. */
export interface KnownTenants {
  /** Every tenant, sorted. */
  list(): Promise<string[]>;
  /** Resolves when `tenant` exists; throws `UnknownTenantError` otherwise. */
  assertKnown(tenant: string): Promise<void>;
}

/** Which databases a run covers; with neither field, every alias and every tenant. */
export interface DatabaseFilter {
  /** Only these aliases (and, unless `tenants` is also given, no tenants). */
  readonly databases?: readonly string[];
  /** Only these tenants (and, unless `databases` is also given, no aliases). */
  readonly tenants?: readonly string[];
}

/**
 * Lists the databases of a run in order: `default`, the other aliases as configured, then
 * the tenants (sorted). Every name is validated before anything runs.
 */
export class DatabaseSelection {
  readonly #resolver: DatabaseResolver;
  readonly #directory: KnownTenants | undefined;

  constructor(resolver: DatabaseResolver, directory: KnownTenants | undefined) {
    this.#resolver = resolver;
    this.#directory = directory;
  }

  /**
   * The targets `filter` names: aliases first, then tenants.
   *
   * @throws UnknownDatabaseError, InvalidTenantIdError or UnknownTenantError for a bad name.
   */
  async select(filter: DatabaseFilter = {}): Promise<DatabaseTarget[]> {
    return [...this.aliasesOf(filter), ...(await this.tenantsOf(filter))];
  }

  /**
   * The aliases `filter` names (`default` first). Also validates the tenant ids it names, so
   * that a bad name fails before anything runs.
   *
   * @throws UnknownDatabaseError, InvalidTenantIdError or ConfigurationError.
   */
  aliasesOf(filter: DatabaseFilter = {}): DatabaseTarget[] {
    const { databases, tenants } = filter;
    if (tenants !== undefined) {
      if (!this.#directory) {
        throw ConfigurationError.invalid(
          "tenants",
          "tenants were named but none are configured",
          "Add tenants: { list, options } to TenantRouter.create.",
        );
      }
      for (const tenant of tenants) assertTenantId(tenant, "the tenants option");
    }
    if (databases === undefined && tenants === undefined) {
      return this.#resolver.aliases
        .slice()
        .sort((a, b) => Number(b.name === DEFAULT_ALIAS) - Number(a.name === DEFAULT_ALIAS));
    }
    return dedupe(
      (databases ?? []).map((alias) => this.#resolver.target(alias, "the databases option")),
    );
  }

  /**
   * The tenants `filter` names (sorted), reading the tenant list when it names none. Call it
   * after migrating the aliases: the list may live in a table they create.
   *
   * @throws UnknownTenantError for a named tenant that is not listed.
   */
  async tenantsOf(filter: DatabaseFilter = {}): Promise<DatabaseTarget[]> {
    const { databases, tenants } = filter;
    if (!this.#directory) return [];
    if (tenants === undefined) {
      return databases === undefined ? (await this.#directory.list()).map(tenantTarget) : [];
    }
    for (const tenant of tenants) await this.#directory.assertKnown(tenant);
    return [...new Set(tenants)].sort().map(tenantTarget);
  }
}

function dedupe(targets: readonly DatabaseTarget[]): DatabaseTarget[] {
  return [...new Map(targets.map((target) => [target.key, target])).values()];
}
