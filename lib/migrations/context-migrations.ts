import { Migration as TypeOrmMigration } from "typeorm/migration/Migration";
import { currentTenant } from "../context/tenant-context";
import { ConfigurationError, NoTenantContextError } from "../errors";
import type { DatabaseMigrationResult } from "./migration-report";
import type { MigrationSets } from "./migration-set";
import type { Migrator } from "./migrator";

/** The options of TypeORM's `dataSource.runMigrations()` and `undoLastMigration()`. */
export interface DataSourceMigrationOptions {
  /**
   * `"each"` (the default, as `router.migrate()`'s; TypeORM's is `"all"`): one locked
   * transaction per migration; `"all"`: one for the set (refused where DDL is not
   * transactional, e.g. MySQL). `"none"` is refused: a migration that must run outside a
   * transaction sets `transaction = false`.
   */
  readonly transaction?: "all" | "each" | "none";
  /** Record (or forget) the migrations without running them. */
  readonly fake?: boolean;
}

/**
 * TypeORM's DataSource migration methods on the router's DataSource
 * (`router.manager.connection.runMigrations()`, `undoLastMigration()`, `showMigrations()`):
 * they work on the database of the tenant in context, with the router's migrations for it,
 * through the router's migrator (locked, recorded only where they ran), and answer as
 * TypeORM's do. With no tenant in context they throw: nothing falls back to `default`.
 */
export class ContextMigrations {
  readonly #migrator: Migrator;
  readonly #sets: MigrationSets;

  constructor(migrator: Migrator, sets: MigrationSets) {
    this.#migrator = migrator;
    this.#sets = sets;
  }

  /**
   * Applies the tenant's pending migrations; resolves with those applied (or recorded, with
   * `fake`), as TypeORM's `Migration` objects.
   *
   * @throws the failed database's RoutingError (the migration's error as `cause`).
   */
  async run(options: DataSourceMigrationOptions = {}): Promise<TypeOrmMigration[]> {
    const tenant = tenantFor("runMigrations");
    const report = await this.#migrator.migrate({
      tenants: [tenant],
      transaction: transactionMode(options, "runMigrations"),
      fake: options.fake === true,
    });
    if (report.tenantListError) throw report.tenantListError;
    const [result] = report.results;
    return this.#migrationsOf(succeeded(result));
  }

  /**
   * Reverts the tenant's newest migration (forgets it without running `down()`, with `fake`).
   *
   * @throws the failed database's RoutingError (the migration's error as `cause`).
   */
  async undoLast(options: DataSourceMigrationOptions = {}): Promise<void> {
    const tenant = tenantFor("undoLastMigration");
    transactionMode(options, "undoLastMigration");
    succeeded(await this.#migrator.revert({ tenant, steps: 1, fake: options.fake === true }));
  }

  /** Whether the tenant has pending migrations. */
  async show(): Promise<boolean> {
    const [status] = await this.#migrator.status({ tenants: [tenantFor("showMigrations")] });
    if (status.error) throw status.error;
    return status.groups.some((group) => group.pending.length > 0);
  }

  #migrationsOf(result: DatabaseMigrationResult): TypeOrmMigration[] {
    return result.applied.map(({ group, name }) => {
      const migration = this.#sets.migrationsOf(group).find((m) => m.name === name)!;
      const { instance, timestamp } = migration;
      return new TypeOrmMigration(undefined, timestamp, name, instance, instance.transaction);
    });
  }
}

function tenantFor(method: string): string {
  const tenant = currentTenant();
  if (tenant === undefined) throw NoTenantContextError.forDataSource(method);
  return tenant;
}

function transactionMode(options: DataSourceMigrationOptions, method: string): "all" | "each" {
  const mode = options.transaction ?? "each";
  if (mode === "all" || mode === "each") return mode;
  throw ConfigurationError.invalid(
    `dataSource.${method}({ transaction })`,
    `${JSON.stringify(mode)} is not supported on the router's DataSource: the router runs every migration in a locked transaction`,
    'Use "each" (the default) or "all"; a migration that must run outside a transaction sets transaction = false.',
  );
}

function succeeded(result: DatabaseMigrationResult): DatabaseMigrationResult {
  if (result.error) throw result.error;
  return result;
}
