import type { DatabaseResolver } from "./database-resolver";
import { tenantTarget, type DatabaseTarget } from "./database-target";
import { DEFAULT_ALIAS } from "./entity-registry";
import { ConfigurationError } from "./errors";
import { assertTenantId } from "./tenant-id";
import type { TenantDirectory } from "./tenant-directory";

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
  readonly #directory: TenantDirectory | undefined;

  constructor(resolver: DatabaseResolver, directory: TenantDirectory | undefined) {
    this.#resolver = resolver;
    this.#directory = directory;
  }

  /**
   * The targets `filter` names.
   *
   * @throws UnknownDatabaseError, InvalidTenantIdError or UnknownTenantError for a bad name.
   */
  async select(filter: DatabaseFilter = {}): Promise<DatabaseTarget[]> {
    const { databases, tenants } = filter;
    const filtered = databases !== undefined || tenants !== undefined;
    const aliases = this.#resolver.aliases
      .slice()
      .sort((a, b) => Number(b.name === DEFAULT_ALIAS) - Number(a.name === DEFAULT_ALIAS));
    const selectedAliases = !filtered
      ? aliases
      : (databases ?? []).map((alias) => this.#resolver.target(alias, "the databases option"));
    if (tenants !== undefined && !this.#directory) {
      throw ConfigurationError.invalid(
        "tenants",
        "tenants were named but none are configured",
        "Add tenants: { list, options } to TenantRouter.create.",
      );
    }
    let tenantIds: readonly string[] = [];
    if (!filtered) tenantIds = this.#directory ? await this.#directory.list() : [];
    else if (tenants !== undefined) {
      for (const tenant of tenants) assertTenantId(tenant, "the tenants option");
      for (const tenant of tenants) await this.#directory!.assertKnown(tenant);
      tenantIds = [...new Set(tenants)].sort();
    }
    return [...dedupe(selectedAliases), ...tenantIds.map(tenantTarget)];
  }
}

function dedupe(targets: readonly DatabaseTarget[]): DatabaseTarget[] {
  return [...new Map(targets.map((target) => [target.key, target])).values()];
}
