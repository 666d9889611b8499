import type { DataSource } from "typeorm";
import type { DataSourceFactory } from "../pool/data-source-factory";
import type { DataSourcePool } from "../pool/data-source-pool";
import { tenantTarget } from "../routing/database-target";
import { ConfirmationRequiredError, TenantExistsError, messageOf } from "../errors";
import type { Migrator } from "../migrations/migrator";
import type { DatabaseMigrationResult } from "../migrations/migration-report";
import { assertTenantId } from "../context/tenant-id";
import type { TenantDirectory } from "./tenant-directory";
import type { TenantRegistrationOf } from "../config/router-options";

/** Creates and drops the storage of one tenant (its database, or its schema). */
export interface TenantStorage {
  create(tenant: string): Promise<void>;
  drop(tenant: string): Promise<void>;
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
      await dataSource.destroy();
      dataSource = undefined;
      await registration.register?.(tenant, router());
      registered = true;
      directory.add(tenant);
      return result;
    } catch (error) {
      const undo: Promise<unknown>[] = [];
      if (dataSource?.isInitialized) await dataSource.destroy().catch(warn(tenant));
      if (registered) undo.push(registration.unregister?.(tenant, router()) ?? Promise.resolve());
      if (created) undo.push(storage.drop(tenant));
      await Promise.all(undo.map((step) => step.catch(warn(tenant))));
      directory.remove(tenant);
      throw error;
    }
  }

  /**
   * Closes the tenant's DataSource, drops its database and unregisters it.
   *
   * @throws ConfirmationRequiredError unless `options.confirm` repeats the tenant id.
   * @throws UnknownTenantError when the tenant is not listed.
   */
  async drop(tenant: string, options: { readonly confirm?: string } = {}): Promise<void> {
    assertTenantId(tenant, "router.tenants.drop()");
    if (options.confirm !== tenant) throw ConfirmationRequiredError.forDrop(tenant);
    const { directory, pool, registration, router, storage } = this.#props;
    await directory.assertKnown(tenant);
    const target = tenantTarget(tenant);
    await pool.evict(target);
    await storage.drop(tenant);
    await registration.unregister?.(tenant, router());
    directory.remove(tenant);
  }
}

function warn(tenant: string): (error: unknown) => void {
  return (error) =>
    process.emitWarning(
      `typeorm-router: undoing the failed creation of tenant "${tenant}" failed: ${messageOf(error)}`,
      { code: "TYPEORM_ROUTER_UNDO_FAILED" },
    );
}
