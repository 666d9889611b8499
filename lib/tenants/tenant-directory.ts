import { RouterLog } from "../observability/router-log";
import {
  ConfigurationError,
  RoutingError,
  UnknownTenantError,
  messageOf,
  type RoutingError as RoutingErrorType,
} from "../errors";
import { TENANT_ID_PATTERN } from "../context/tenant-id";
import type { TenantListOf } from "../config/router-options";
import { isMissingStorageError } from "./missing-storage";

// How stale a read may be when an error says a listed tenant's storage is gone.
const TRANSLATE_REFRESH_MS = 50;

/** Props of {@link TenantDirectory}; `R` is the router handed to the list function. */
export interface TenantDirectoryProps<R> {
  readonly list: TenantListOf<R>;
  readonly router: () => R;
  /**
   * A miss re-reads the list at most this often, so unknown ids cannot flood it; a failed
   * read counts too, so a failing list is not called once per request.
   */
  readonly refreshIntervalMs: number;
  /** The router's logs. Default: the default logs (the `debug` namespaces). */
  readonly log?: RouterLog;
}

/**
 * Knows which tenants exist. Membership is cached; a miss re-reads the list (single-flight,
 * at most once per `refreshIntervalMs`, whether the read succeeds or fails) before a tenant
 * is declared unknown.
 *
 * - A malformed id in the list is skipped and reported (one warning per read); the other
 *   tenants stay reachable.
 * - A tenant being dropped (`markLeaving`) is refused at once, and one dropped by this process
 *   stays refused while the list still names it (a static list, a slow unregister).
 */
export class TenantDirectory<R = never> {
  readonly #props: TenantDirectoryProps<R>;
  readonly #source: string;
  readonly #leaving = new Set<string>();
  readonly #gone = new Set<string>();
  #known: Set<string> | undefined;
  #readAt = Number.NEGATIVE_INFINITY;
  #failure: RoutingErrorType | undefined;
  #refreshing: Promise<Set<string>> | undefined;
  #skipped: readonly unknown[] = [];

  constructor(props: TenantDirectoryProps<R>) {
    this.#props = props;
    this.#source =
      typeof props.list === "function" ? "the tenants.list() function" : "the static tenants.list";
  }

  /** The malformed ids the last read of the list skipped (empty when there were none). */
  get skipped(): readonly unknown[] {
    return this.#skipped;
  }

  /**
   * Resolves when `tenant` is known.
   *
   * @throws UnknownTenantError when the (refreshed) list does not contain it, or it is being
   * dropped; the list's own error (a ConfigurationError) while reading it fails.
   */
  async assertKnown(tenant: string): Promise<void> {
    if (this.#leaving.has(tenant)) throw UnknownTenantError.leaving(tenant);
    if (this.#known?.has(tenant) && !this.#gone.has(tenant)) return;
    if (Date.now() - this.#readAt >= this.#props.refreshIntervalMs) {
      await this.#refresh();
    } else if (this.#failure) {
      // Read (and failed) moments ago: answer with that failure instead of calling it again.
      throw this.#failure;
    }
    if (this.#leaving.has(tenant)) throw UnknownTenantError.leaving(tenant);
    if (!this.#known!.has(tenant) || this.#gone.has(tenant)) {
      throw UnknownTenantError.notListed(tenant, this.#source);
    }
  }

  /**
   * Whether `tenant` is known right now, from the cached list alone: what lets a tenant open
   * without awaiting anything. `false` says nothing (ask {@link assertKnown}, which may
   * re-read the list and says why a tenant is refused).
   */
  isKnownNow(tenant: string): boolean {
    return (
      this.#known?.has(tenant) === true && !this.#leaving.has(tenant) && !this.#gone.has(tenant)
    );
  }

  /** Whether `tenant` is being dropped (new work on it is refused). */
  isLeaving(tenant: string): boolean {
    return this.#leaving.has(tenant);
  }

  /** Reads the list afresh and returns it sorted (without tenants being dropped). */
  async list(): Promise<string[]> {
    const known = await this.#refresh();
    return [...known]
      .filter((tenant) => !this.#leaving.has(tenant) && !this.#gone.has(tenant))
      .sort();
  }

  /** Records a tenant created through the router. */
  add(tenant: string): void {
    this.#gone.delete(tenant);
    this.#known?.add(tenant);
  }

  /** Forgets a tenant dropped through the router. */
  remove(tenant: string): void {
    this.#known?.delete(tenant);
    this.#gone.add(tenant);
  }

  /**
   * Marks `tenant` as being dropped: from now on `assertKnown` refuses it with
   * `UnknownTenantError`, while the work already running on it drains. Returns a function
   * that ends the mark: `dropped` true keeps the tenant refused (see `remove`).
   */
  markLeaving(tenant: string): (dropped: boolean) => void {
    this.#leaving.add(tenant);
    return (dropped) => {
      this.#leaving.delete(tenant);
      if (dropped) this.remove(tenant);
    };
  }

  /**
   * Translates a driver error raised while working on `tenant`: when it says the tenant's
   * database, schema or table does not exist and the directory (re-read, at most once per
   * `refreshIntervalMs`) no longer lists the tenant, it was dropped, maybe by another process:
   * resolves `UnknownTenantError` with the driver error as `cause`. Resolves `undefined` when
   * the error is something else, or the tenant is still listed.
   */
  async translate(tenant: string, error: unknown): Promise<UnknownTenantError | undefined> {
    if (error instanceof UnknownTenantError) return error;
    if (error instanceof RoutingError && !isMissingStorageError(error.cause)) return undefined;
    if (!(error instanceof RoutingError) && !isMissingStorageError(error)) return undefined;
    const cause = error instanceof RoutingError ? error.cause : error;
    if (this.#leaving.has(tenant) || this.#gone.has(tenant)) {
      return UnknownTenantError.dropped(tenant, cause);
    }
    // A missing table in a tenant that still exists is a migration problem: only a listing
    // that no longer names the tenant makes it a dropped one. Such an error is a strong hint,
    // so the list is re-read now (single-flight, at most every TRANSLATE_REFRESH_MS), not
    // after refreshIntervalMs: another process's drop is recognised at the first failure.
    try {
      if (Date.now() - this.#readAt >= TRANSLATE_REFRESH_MS) await this.#refresh();
      else if (this.#refreshing) await this.#refreshing;
    } catch {
      return undefined; // the list cannot tell: the original error stands
    }
    // Unread, or the last read failed: the list cannot tell either.
    if (!this.#known || this.#failure) return undefined;
    return this.#known.has(tenant) ? undefined : UnknownTenantError.dropped(tenant, cause);
  }

  #refresh(): Promise<Set<string>> {
    this.#refreshing ??= this.#read().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #read(): Promise<Set<string>> {
    const { list } = this.#props;
    let ids: readonly unknown[];
    try {
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
    } catch (error) {
      this.#failure = error as RoutingErrorType;
      this.#readAt = Date.now();
      throw error;
    }
    const valid = new Set<string>();
    const skipped: unknown[] = [];
    for (const id of ids) {
      if (typeof id === "string" && TENANT_ID_PATTERN.test(id)) valid.add(id);
      else skipped.push(id);
    }
    this.#skipped = Object.freeze(skipped);
    if (skipped.length > 0) this.#reportSkipped(skipped);
    // A dropped tenant the list no longer names may come back later, created again.
    for (const tenant of this.#gone) if (!valid.has(tenant)) this.#gone.delete(tenant);
    this.#known = valid;
    this.#failure = undefined;
    this.#readAt = Date.now();
    return valid;
  }

  #reportSkipped(skipped: readonly unknown[]): void {
    const shown = skipped
      .slice(0, 5)
      .map((id) => (typeof id === "string" ? JSON.stringify(id) : messageOf(id)))
      .join(", ");
    (this.#props.log ?? RouterLog.default).tenant.warn(
      "TYPEORM_ROUTER_INVALID_TENANT_IDS",
      `${this.#source} gave ${skipped.length} malformed tenant id(s) ` +
        `(${shown}${skipped.length > 5 ? ", …" : ""}); they were skipped, the other tenants ` +
        `stay reachable. Ids must match ${TENANT_ID_PATTERN}: fix or remove them at the source.`,
      { operation: "list", skipped: skipped.length },
    );
  }
}
