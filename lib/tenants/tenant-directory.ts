import { ConfigurationError, UnknownTenantError } from "../errors";
import { assertTenantId } from "../context/tenant-id";
import type { TenantListOf } from "../config/router-options";

/** Props of {@link TenantDirectory}; `R` is the router handed to the list function. */
export interface TenantDirectoryProps<R> {
  readonly list: TenantListOf<R>;
  readonly router: () => R;
  /** A miss re-reads the list at most this often, so unknown ids cannot flood it. */
  readonly refreshIntervalMs: number;
}

/**
 * Knows which tenants exist. Membership is cached; a miss re-reads the list (single-flight,
 * at most once per `refreshIntervalMs`) before a tenant is declared unknown.
 */
export class TenantDirectory<R = never> {
  readonly #props: TenantDirectoryProps<R>;
  readonly #source: string;
  #known: Set<string> | undefined;
  #refreshedAt = 0;
  #refreshing: Promise<Set<string>> | undefined;

  constructor(props: TenantDirectoryProps<R>) {
    this.#props = props;
    this.#source =
      typeof props.list === "function" ? "the tenants.list() function" : "the static tenants.list";
  }

  /**
   * Resolves when `tenant` is known.
   *
   * @throws UnknownTenantError when the (refreshed) list does not contain it.
   */
  async assertKnown(tenant: string): Promise<void> {
    if (this.#known?.has(tenant)) return;
    if (!this.#known || Date.now() - this.#refreshedAt >= this.#props.refreshIntervalMs) {
      await this.#refresh();
    }
    if (!this.#known!.has(tenant)) throw UnknownTenantError.notListed(tenant, this.#source);
  }

  /** Reads the list afresh and returns it sorted. */
  async list(): Promise<string[]> {
    return [...(await this.#refresh())].sort();
  }

  /** Records a tenant created through the router. */
  add(tenant: string): void {
    this.#known?.add(tenant);
  }

  /** Forgets a tenant dropped through the router. */
  remove(tenant: string): void {
    this.#known?.delete(tenant);
  }

  #refresh(): Promise<Set<string>> {
    this.#refreshing ??= this.#read().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #read(): Promise<Set<string>> {
    const { list } = this.#props;
    let ids: readonly string[];
    try {
      ids = typeof list === "function" ? await list(this.#props.router()) : list;
    } catch (cause) {
      throw ConfigurationError.callbackFailed(
        "tenants.list()",
        cause,
        "Make sure what it reads exists (for tenantsFromEntity: migrate the database holding that table first).",
      );
    }
    if (!Array.isArray(ids)) {
      throw ConfigurationError.invalid(
        "tenants.list",
        `it gave ${JSON.stringify(ids)} instead of an array of tenant ids`,
        "Return an array of strings.",
      );
    }
    for (const id of ids) assertTenantId(id, this.#source);
    const known = new Set(ids);
    this.#known = known;
    this.#refreshedAt = Date.now();
    return known;
  }
}
