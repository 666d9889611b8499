import type { DataSource } from "typeorm";
import { destroyDataSource } from "../dialects";
import type { DataSourceFactory } from "../pool/data-source-factory";
import type { DataSourcePool } from "../pool/data-source-pool";
import { tenantTarget } from "../routing/database-target";
import {
  ConfigurationError,
  ConfirmationRequiredError,
  TenantExistsError,
  messageOf,
} from "../errors";
import type { Migrator } from "../migrations/migrator";
import type { DatabaseMigrationResult } from "../migrations/migration-report";
import { assertTenantId } from "../context/tenant-id";
import type { TenantDirectory } from "./tenant-directory";
import type { TenantRegistrationOf } from "../config/router-options";
import { RouterLog, type ChannelLog } from "../observability/router-log";
import { span } from "../observability/tracing";

/** Creates and drops the storage of one tenant (its database, or its schema). */
export interface TenantStorage {
  create(tenant: string): Promise<void>;
  /**
   * Checks that the tenant's storage may be dropped (reserved names, the router's mark) and
   * resolves the function that drops it.
   */
  prepareDrop(tenant: string): Promise<() => Promise<void>>;
}

/** Props of {@link TenantProvisioner}; `R` is the router handed to the registration hooks. */
export interface TenantProvisionerProps<R> {
  readonly storage: TenantStorage;
  readonly directory: TenantDirectory<R>;
  readonly factory: DataSourceFactory;
  readonly pool: DataSourcePool;
  readonly migrator: Migrator;
  readonly registration: TenantRegistrationOf<R>;
  readonly router: () => R;
  /** The router's logs. Default: the default logs (the `debug` namespaces). */
  readonly log?: RouterLog;
}

/**
 * Creates and drops tenants: the database, its migrations and its registration, all or
 * nothing.
 */
export class TenantProvisioner<R = never> {
  readonly #props: TenantProvisionerProps<R>;

  constructor(props: TenantProvisionerProps<R>) {
    this.#props = props;
  }

  /**
   * Validates the id, creates the tenant's database, runs the tenant migrations on it, then
   * registers the tenant. If any step fails, everything done so far is undone.
   *
   * @throws InvalidTenantIdError, TenantExistsError, or the migration's error.
   */
  async create(tenant: string): Promise<DatabaseMigrationResult> {
    assertTenantId(tenant, "router.tenants.create()");
    const startedAt = Date.now();
    const result = await span("typeorm_router.tenant.create", { tenant, operation: "create" }, () =>
      this.#create(tenant),
    );
    this.#log.info(`created tenant "${tenant}"`, {
      tenant,
      operation: "create",
      durationMs: Date.now() - startedAt,
      applied: result.applied.length,
    });
    return result;
  }

  async #create(tenant: string): Promise<DatabaseMigrationResult> {
    const { directory, factory, migrator, registration, router, storage } = this.#props;
    if ((await directory.list()).includes(tenant)) throw TenantExistsError.listed(tenant);
    const target = tenantTarget(tenant);
    let created = false;
    let registered = false;
    let dataSource: DataSource | undefined;
    try {
      await storage.create(tenant);
      created = true;
      dataSource = await factory.open(target);
      const result = await migrator.migrateDataSource(target, dataSource);
      if (result.error) throw result.error;
      await destroyDataSource(dataSource);
      dataSource = undefined;
      await registration.register?.(tenant, router());
      registered = true;
      directory.add(tenant);
      return result;
    } catch (error) {
      const undo: Promise<unknown>[] = [];
      if (dataSource?.isInitialized)
        await destroyDataSource(dataSource).catch(this.#warnUndo(tenant));
      if (registered) undo.push(registration.unregister?.(tenant, router()) ?? Promise.resolve());
      // Only what this call created is undone: a TenantExistsError from storage.create means
      // another create won, and its storage and registration are not ours to touch.
      if (created) undo.push(storage.prepareDrop(tenant).then((drop) => drop()));
      await Promise.all(undo.map((step) => step.catch(this.#warnUndo(tenant))));
      throw error;
    }
  }

  /**
   * Drops a tenant, in this order:
   * 1. marks it as leaving: new work on it fails with `UnknownTenantError`;
   * 2. drains: evicts its DataSource, waiting up to `drainTimeoutMs` for the calls in flight;
   * 3. unregisters it (`tenants.unregister`), so other processes stop routing to it;
   * 4. drops its storage (only if the router created it; PostgreSQL databases `WITH (FORCE)`,
   *    which ends sessions still connected after the drain). If that fails, the tenant is
   *    registered again and stays as it was.
   *
   * @throws ConfirmationRequiredError unless `options.confirm` repeats the tenant id.
   * @throws UnknownTenantError when the tenant is not listed.
   * @throws ReservedStorageError, UnownedStorageError: nothing was dropped, the tenant stays.
   */
  async drop(tenant: string, options: DropTenantOptions = {}): Promise<void> {
    assertTenantId(tenant, "router.tenants.drop()");
    if (options.confirm !== tenant) throw ConfirmationRequiredError.forDrop(tenant);
    const drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    if (typeof drainTimeoutMs !== "number" || !(drainTimeoutMs >= 0)) {
      throw ConfigurationError.invalid(
        "router.tenants.drop({ drainTimeoutMs })",
        `${String(drainTimeoutMs)} is not a number of milliseconds >= 0`,
        "Pass how long in-flight work on the tenant may take to finish, e.g. 10000.",
      );
    }
    const { directory, pool, registration, router, storage } = this.#props;
    await directory.assertKnown(tenant);
    const finish = directory.markLeaving(tenant);
    let dropped = false;
    const startedAt = Date.now();
    try {
      await span("typeorm_router.tenant.drop", { tenant, operation: "drop" }, async () => {
        await drain(pool.evict(tenantTarget(tenant)), drainTimeoutMs, tenant, this.#log);
        // Every refusal (reserved, unmarked) before anything changes; the tenant's options may
        // come from its registration, so they are read before it is removed.
        const dropStorage = await storage.prepareDrop(tenant);
        // Unregistered before the storage goes, so other processes stop routing to it (their
        // next read of the list) before their connections fail; put back if the drop fails.
        await registration.unregister?.(tenant, router());
        try {
          await dropStorage();
        } catch (error) {
          await registration
            .register?.(tenant, router())
            ?.catch((undo: unknown) =>
              this.#log.warn(
                "TYPEORM_ROUTER_UNDO_FAILED",
                `registering tenant "${tenant}" again after its drop failed did not work: ${messageOf(undo)}`,
                { tenant, operation: "drop", error: undo },
              ),
            );
          throw error;
        }
        dropped = true;
      });
    } finally {
      finish(dropped);
    }
    this.#log.info(`dropped tenant "${tenant}"`, {
      tenant,
      operation: "drop",
      durationMs: Date.now() - startedAt,
    });
  }

  get #log(): ChannelLog {
    return (this.#props.log ?? RouterLog.default).tenant;
  }

  #warnUndo(tenant: string): (error: unknown) => void {
    return (error) =>
      this.#log.warn(
        "TYPEORM_ROUTER_UNDO_FAILED",
        `undoing the failed creation of tenant "${tenant}" failed: ${messageOf(error)}`,
        { tenant, operation: "create", error },
      );
  }
}

/** Options of `router.tenants.drop(tenant, options)`. */
export interface DropTenantOptions {
  /** The tenant id again: dropping deletes every row. */
  readonly confirm?: string;
  /**
   * How long the calls already running on the tenant may take to finish before its storage
   * is dropped anyway (their connections are then ended). Default 10000 ms.
   */
  readonly drainTimeoutMs?: number;
}

const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

// Waits for `evicted` (the pool closes the DataSource once its calls finished), at most
// `timeoutMs`; past it the drop goes on, and the close still completes in the background.
async function drain(
  evicted: Promise<void>,
  timeoutMs: number,
  tenant: string,
  log: ChannelLog,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  const closed = evicted.catch((error: unknown) =>
    log.warn(
      "TYPEORM_ROUTER_DRAIN_FAILED",
      `closing tenant "${tenant}" before dropping it failed: ${messageOf(error)}`,
      { tenant, operation: "drop", error },
    ),
  );
  try {
    await Promise.race([closed, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
