import { DataSource, type DataSourceOptions, type ReplicationMode } from "typeorm";
import { aliasTarget, tenantTarget, type DatabaseTarget } from "../routing/database-target";
import { TENANT_GROUP, type EntityRegistry } from "../registry/entity-registry";
import { markSynchronizable } from "../registry/mark-synchronizable";
import {
  ConfigurationError,
  DataSourceInitError,
  DatabaseUnavailableError,
  PoolExhaustedError,
  ReadOnlyDatabaseError,
  type RoutingError,
} from "../errors";
import {
  destroyDataSource,
  dialectFor,
  isConnectionLost,
  knownDialect,
  startupFactsFor,
} from "../dialects";
import type { NormalizedOptions } from "../config/router-options";
import { checkDataSourceOptions } from "../config/router-options";
import { SharedMetadata } from "./shared-metadata";
import type { SharedSubscribers } from "./shared-subscribers";
import { viewsOf, type DataSourceViews } from "./data-source-view";
import { keyCacheBy } from "./tenant-keyed-cache";
import type { SharedDatabaseTenancy } from "../tenants/strategies/tenant-strategy";
import type { TemporarySqliteFolder } from "../dialects/sqlite/temporary-sqlite";

/** Props of {@link DataSourceFactory}. */
export interface DataSourceFactoryProps {
  readonly options: NormalizedOptions;
  readonly registry: EntityRegistry;
  /** The subscriber instances every DataSource made here shares. */
  readonly subscribers: SharedSubscribers;
  /** In test mode, where default test databases go. */
  readonly testFolder: TemporarySqliteFolder | undefined;
  /**
   * In test mode, migrates a freshly opened test database when migration groups apply to
   * it; resolves `false` when none do (the schema then comes from the entities).
   */
  readonly migrateTestDatabase: (
    target: DatabaseTarget,
    dataSource: DataSource,
  ) => Promise<boolean>;
}

// Used only to build metadata for tenants before any tenant is known; never connected.
const BLUEPRINT_TENANT = "blueprint";

/**
 * Builds the DataSource of an alias or a tenant: the right options (real or test), the
 * entity metadata it needs, and its schema:
 * - outside test mode, synchronized from the entities only when its options ask for it;
 * - in test mode, migrated when migration groups apply to it (then only
 *   `@Unmanaged({ createInTests: true })` tables are synchronized), else synchronized.
 * Only entities placed in the database's own group are ever created there.
 */
export class DataSourceFactory {
  readonly #props: DataSourceFactoryProps;
  // The tenant blueprint's metadata, reused by the tenant DataSources whose options allow it.
  #tenantMetadata: SharedMetadata | undefined;
  // The one DataSource of tenants that share a database (schemas), opened once: what makes
  // a tenant's view of it, once it is open (a tenant then opens without awaiting it).
  #sharedTenants: Promise<DataSourceViews> | undefined;
  #views: DataSourceViews | undefined;
  // Whether the shared options ask to synchronize: then each view does as it opens.
  #synchronizeViews = false;
  // What drivers asked their server on connecting (version, current schema), per server:
  // the next database on that server opens without those round trips.
  readonly #serverFacts = new Map<string, object>();

  constructor(props: DataSourceFactoryProps) {
    this.#props = props;
  }

  /** The placement group of `target`: its alias, or `"tenant"`. */
  static groupOf(target: DatabaseTarget): string {
    return target.kind === "alias" ? target.name : TENANT_GROUP;
  }

  /** The TypeORM options `target` connects with (test options in test mode). */
  optionsFor(target: DatabaseTarget): DataSourceOptions {
    const { options, testFolder } = this.#props;
    if (target.kind === "alias") {
      const database = options.databases.get(target.name)!;
      if (target.replica !== undefined) return database.replicas[target.replica];
      if (!options.testMode) return database.options;
      return (
        database.testOptions ?? testFolder!.optionsFor(`alias-${target.name}`, database.options)
      );
    }
    const tenants = options.tenants;
    if (!tenants) {
      throw ConfigurationError.invalid(
        "tenants",
        `${target.description} was routed to, but no tenants are configured`,
        "Add tenants: { list, options } to TenantRouter.create.",
      );
    }
    if (!options.testMode) return tenants.strategy.optionsFor(target.name);
    if (!tenants.testOptions) {
      return testFolder!.optionsFor(
        `tenant-${target.name}`,
        tenants.strategy.optionsFor(target.name),
      );
    }
    const testOptions = tenants.testOptions(target.name);
    checkDataSourceOptions(testOptions, `tenants.testOptions("${target.name}")`);
    return testOptions;
  }

  /**
   * Creates, initializes and (when asked, or in test mode) synchronizes `target`'s DataSource.
   *
   * @throws DatabaseUnavailableError when the server could not be reached, else
   * DataSourceInitError; naming the database, with the driver error as `cause`.
   */
  async open(target: DatabaseTarget): Promise<DataSource> {
    const shared = target.kind === "tenant" ? this.#sharedTenancy() : undefined;
    if (shared) {
      const views =
        this.#views ??
        (await this.#openShared(shared).catch((cause: unknown) => {
          throw openFailed(
            `the database shared by the tenants (for tenant "${target.name}")`,
            cause,
          );
        }));
      const view = this.#viewOf(views, target);
      if (this.#synchronizeViews) {
        await view.synchronize().catch((cause: unknown) => {
          throw openFailed(target.description, cause);
        });
      }
      return view;
    }
    const group = DataSourceFactory.groupOf(target);
    // A read-only alias is read-only in the database session itself (replicas refuse writes
    // on their own; test mode writes to a test copy).
    const readOnly =
      target.readOnly && target.replica === undefined && !this.#props.options.testMode
        ? dialectFor(this.optionsFor(target)).readOnly
        : undefined;
    const options = readOnly ? readOnly.options(this.optionsFor(target)) : this.optionsFor(target);
    const dataSource = this.#create(group, options);
    keyCacheBy(dataSource, () => target.key);
    knownDialect(options)?.shareConnection?.(dataSource, {
      timeoutMs: this.#props.options.pool.acquireTimeoutMs,
      busy: (waitedMs) => PoolExhaustedError.connectionBusy(target.description, waitedMs),
    });
    if (readOnly) {
      const create = dataSource.createQueryRunner.bind(dataSource);
      dataSource.createQueryRunner = (mode?: ReplicationMode) =>
        readOnly.runner(create(mode), (cause) =>
          ReadOnlyDatabaseError.bySession(target.description, cause),
        );
    }
    try {
      await this.#initialize(dataSource, options);
      if (this.#props.options.testMode) {
        const migrated = await this.#props.migrateTestDatabase(target, dataSource);
        this.#markSynchronizable(dataSource, group, migrated ? "test-only" : "managed");
        await dataSource.synchronize();
      } else if (options.synchronize === true && target.replica === undefined) {
        this.#markSynchronizable(dataSource, group, "managed");
        await dataSource.synchronize();
      }
      this.#markSynchronizable(dataSource, group, "managed");
    } catch (cause) {
      if (dataSource.isInitialized) await destroyDataSource(dataSource).catch(() => undefined);
      throw openFailed(target.description, cause);
    }
    return dataSource;
  }

  /**
   * {@link open} without waiting, when opening `target` needs no I/O: a tenant of a strategy
   * that shares one database, once that database is open and when views need no
   * synchronize. Its view is made at once (no metadata, no query). `undefined` otherwise:
   * `open` then does the work. Does not check that the tenant exists (the caller does).
   */
  openNow(target: DatabaseTarget): DataSource | undefined {
    const views = this.#views;
    if (views === undefined || this.#synchronizeViews || target.kind !== "tenant") return undefined;
    if (this.#sharedTenancy() === undefined) return undefined;
    return this.#viewOf(views, target);
  }

  /**
   * Whether `dataSource` holds nothing of its own to close (a tenant's view of the database
   * its tenants share): it can be dropped at once, without `destroy()`.
   */
  holdsNothing(dataSource: DataSource): boolean {
    return this.#views?.owns(dataSource) === true;
  }

  #viewOf(views: DataSourceViews, target: DatabaseTarget): DataSource {
    const view = views.of(target.name);
    keyCacheBy(view, () => target.key);
    return view;
  }

  /**
   * A never-connected DataSource of `group` whose entity metadata is built, for the routed
   * operations that need metadata but no connection (`create`, `merge`, `hasId`, `getId`).
   */
  async blueprint(group: string): Promise<DataSource> {
    const target =
      group === TENANT_GROUP ? tenantTarget(BLUEPRINT_TENANT) : aliasTarget(group, false);
    const shared = group === TENANT_GROUP ? this.#sharedTenancy() : undefined;
    const options = this.#optionsWithEntities(
      group,
      shared ? shared.options : this.optionsFor(target),
    );
    const dataSource = new BlueprintDataSource(options);
    this.#props.subscribers.adopt(dataSource);
    await dataSource.buildMetadataOnly();
    if (group === TENANT_GROUP) this.#tenantMetadata = new SharedMetadata(dataSource);
    return dataSource;
  }

  // Real tenants of a strategy that shares one database; test databases never share.
  #sharedTenancy(): SharedDatabaseTenancy | undefined {
    const { options } = this.#props;
    return options.testMode ? undefined : options.tenants?.strategy.shared;
  }

  // initialize(), with what the driver would ask at startup preset when another database on
  // the same server already answered it (issue 9: a database-per-tenant open sends no
  // startup query); the first DataSource of each server learns them.
  async #initialize(dataSource: DataSource, options: DataSourceOptions): Promise<void> {
    const startup = startupFactsFor(options);
    const key = startup?.key(options);
    const known = key === undefined ? undefined : this.#serverFacts.get(key);
    if (known) startup!.preset(dataSource, known);
    await dataSource.initialize();
    knownDialect(options)?.discardEndedSessions?.(dataSource);
    if (key === undefined || known) return;
    const learnt = startup!.learnt(dataSource);
    if (learnt) this.#serverFacts.set(key, learnt);
  }

  // The DataSource every tenant schema shares, opened once; resolves the maker of its views.
  #openShared(shared: SharedDatabaseTenancy): Promise<DataSourceViews> {
    this.#sharedTenants ??= (async () => {
      const options = this.#optionsWithEntities(TENANT_GROUP, shared.options);
      const dataSource = this.#create(TENANT_GROUP, options);
      try {
        await dataSource.initialize();
      } catch (cause) {
        this.#sharedTenants = undefined;
        throw cause; // open() says which tenant asked
      }
      this.#markSynchronizable(dataSource, TENANT_GROUP, "managed");
      // Runners reached without a tenant (metadata.dataSource, driver.connection) refuse
      // statements on the placeholder schema; tenants' runners are scoped by their view.
      const create = dataSource.createQueryRunner.bind(dataSource);
      dataSource.createQueryRunner = (mode?: ReplicationMode) => shared.unscoped(create(mode));
      this.#synchronizeViews = shared.options.synchronize === true;
      this.#views = viewsOf(dataSource, (tenant, mode) => shared.scope(create(mode), tenant));
      return this.#views;
    })();
    return this.#sharedTenants;
  }

  #create(group: string, options: DataSourceOptions): DataSource {
    const withEntities = this.#optionsWithEntities(group, options);
    // Tenants only (an alias opens once), and not in test mode: open() marks `synchronize`
    // on the metadata differently per database there while synchronize() runs, which shared
    // metadata would leak between databases.
    const shared =
      group !== TENANT_GROUP || this.#props.options.testMode ? undefined : this.#tenantMetadata;
    const dataSource = shared?.accepts(withEntities)
      ? shared.createDataSource(withEntities)
      : new DataSource(withEntities);
    this.#props.subscribers.adopt(dataSource);
    return dataSource;
  }

  #optionsWithEntities(group: string, options: DataSourceOptions): DataSourceOptions {
    const { registry, options: routerOptions } = this.#props;
    const entities = registry.metadataEntitiesFor(group, routerOptions.routers.length > 0);
    return { ...options, synchronize: false, entities, migrations: [] };
  }

  // Marks which tables synchronize() may create here (and verifySchema expects).
  #markSynchronizable(dataSource: DataSource, group: string, which: "managed" | "test-only"): void {
    const { registry, options } = this.#props;
    markSynchronizable(dataSource.entityMetadatas, {
      registry,
      group,
      which,
      testMode: options.testMode,
    });
  }
}

// An open that failed because the server could not be reached is an outage the next call
// retries; anything else (options, credentials, the database itself) is the open's own failure.
function openFailed(database: string, cause: unknown): RoutingError {
  return isConnectionLost(cause)
    ? DatabaseUnavailableError.lost(database, cause)
    : DataSourceInitError.failed(database, cause);
}

// Builds entity metadata without connecting (DataSource.buildMetadatas is protected).
class BlueprintDataSource extends DataSource {
  buildMetadataOnly(): Promise<void> {
    return this.buildMetadatas();
  }
}
