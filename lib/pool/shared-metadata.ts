import { BaseEntity, DataSource, type DataSourceOptions, type EntityMetadata } from "typeorm";
import { ConnectionMetadataBuilder } from "typeorm/connection/ConnectionMetadataBuilder";

// Options that only say how to connect, log, cache or migrate. TypeORM's metadata builders
// never read them (EntityMetadataBuilder, EntityMetadata.build() and the junction builders
// read `type`, `schema`, `entityPrefix`, `entitySkipConstructor`, `namingStrategy`, the
// driver's constants, and `typename` in EntityMetadata.create()), so DataSources that differ
// only in these build identical metadata. Any other option must be equal (deeply for plain
// objects and arrays, by identity for functions and class instances) to share.
const CONNECTION_ONLY = new Set<string>([
  "name",
  "url",
  "host",
  "port",
  "username",
  "password",
  "database",
  "ssl",
  "applicationName",
  "extra",
  "poolSize",
  "driver",
  "nativeDriver",
  "nativeBinding",
  "replication",
  "connectTimeoutMS",
  "poolErrorHandler",
  "logNotifications",
  "logging",
  "logger",
  "maxQueryExecutionTime",
  "synchronize",
  "migrationsRun",
  "dropSchema",
  "migrations",
  "migrationsTableName",
  "migrationsTransactionMode",
  "metadataTableName",
  "subscribers",
  "key",
  "statementCacheSize",
  "prepareDatabase",
  "readonly",
  "fileMustExist",
  "timeout",
  "verbose",
  "enableWAL",
  "installExtensions",
  "extensions",
  "uuidExtension",
]);

/**
 * Entity metadata built once, on a never-connected blueprint DataSource, and reused by every
 * DataSource whose options build the same metadata (TypeORM otherwise rebuilds it for each
 * DataSource, typeorm#2728: about 270 KB of heap per open tenant with 30 entities).
 *
 * Where TypeORM allows it, and only there:
 * - The options must agree on everything but how to connect (see `CONNECTION_ONLY`). A
 *   schema-per-tenant DataSource never qualifies: EntityMetadata.build() bakes the schema
 *   into `schema` and `tablePath` (typeorm/metadata/EntityMetadata.js, `build()`), the
 *   closure-junction builder into its tables (ClosureJunctionEntityMetadataBuilder.js, reads
 *   `driver.options.schema`), and foreign keys into `referencedTablePath`; every query builder
 *   reads the table from there. So those tenants keep one metadata set per schema, as before.
 * - No entity may have lazy relations: EntityMetadata.create() wires them through
 *   `this.dataSource.relationLoader` (EntityMetadata.js, `create()`), the DataSource that
 *   built the metadata, so a lazy load would run on the blueprint instead of the tenant.
 * - The shared metadata's `dataSource` (and deprecated `connection`) is the blueprint, which
 *   never connects: code that reaches a database through `metadata.dataSource` fails instead
 *   of reaching another tenant. Nothing in TypeORM 1.1 queries through it (only `create()`
 *   reads `options.typename`, which sharing requires to be equal).
 * - Each DataSource's driver still names every table itself (SQLite attaches the files of
 *   `@Entity({ database })` next to its own database); one naming a table otherwise builds
 *   its own metadata.
 * - Subscribers and migrations are still built for each DataSource (they are its own).
 * - Callers must not mutate the metadata per DataSource: the router only sets `synchronize`,
 *   to the same values for every DataSource of a group outside test mode.
 */
export class SharedMetadata {
  readonly #blueprint: DataSource;
  readonly #shareable: boolean;

  /** `blueprint` must have built its metadata (e.g. through `buildMetadatas()`), unconnected. */
  constructor(blueprint: DataSource) {
    this.#blueprint = blueprint;
    this.#shareable =
      process.env.TYPEORM_ROUTER_SHARED_METADATA !== "off" &&
      !blueprint.entityMetadatas.some((metadata) => metadata.lazyRelations.length > 0);
  }

  /**
   * Whether a DataSource with `options` may use the blueprint's metadata instead of building
   * its own. Always `false` when an entity has lazy relations, or when the environment sets
   * `TYPEORM_ROUTER_SHARED_METADATA=off` (a diagnostic switch: the heap benchmark uses it to
   * measure the cost without sharing).
   */
  accepts(options: DataSourceOptions): boolean {
    if (!this.#shareable) return false;
    const blueprint = this.#blueprint.options as unknown as Record<string, unknown>;
    const candidate = options as unknown as Record<string, unknown>;
    const keys = new Set([...Object.keys(blueprint), ...Object.keys(candidate)]);
    for (const key of keys) {
      if (CONNECTION_ONLY.has(key)) continue;
      if (!sameValue(blueprint[key], candidate[key])) return false;
    }
    return true;
  }

  /**
   * An uninitialized DataSource with `options` whose `initialize()` adopts the blueprint's
   * metadata rather than building it. Check {@link accepts} first.
   */
  createDataSource(options: DataSourceOptions): DataSource {
    return new MetadataSharingDataSource(options, this.#blueprint.entityMetadatas);
  }
}

class MetadataSharingDataSource extends DataSource {
  readonly #shared: readonly EntityMetadata[];

  constructor(options: DataSourceOptions, shared: readonly EntityMetadata[]) {
    super(options);
    this.#shared = shared;
  }

  // What DataSource.buildMetadatas() does, minus building and validating entity metadata
  // (done once on the blueprint, with a driver of the same type).
  protected override async buildMetadatas(): Promise<void> {
    // EntityMetadata.build() asks the driver for each table path, and the SQLite drivers learn
    // there which files `@Entity({ database })` attaches, resolved from their own database's
    // folder (BetterSqlite3Driver.buildTableName); afterConnect() attaches them. Ask this
    // driver the same: it learns this database's files, and any path it would name otherwise
    // than the blueprint did means the metadata is not this DataSource's to share.
    const ownPaths = this.#shared.every(
      (metadata) =>
        this.driver.buildTableName(metadata.tableName, metadata.schema, metadata.database) ===
        metadata.tablePath,
    );
    if (!ownPaths) return super.buildMetadatas();
    const builder = new ConnectionMetadataBuilder(this);
    const subscribers = await builder.buildSubscribers(listOf(this.options.subscribers));
    const migrations = await builder.buildMigrations(listOf(this.options.migrations));
    Object.assign(this, {
      subscribers,
      migrations,
      entityMetadatas: [...this.#shared],
      entityMetadatasMap: new Map(this.#shared.map((metadata) => [metadata.target, metadata])),
    });
    // As TypeORM does: Active Record entities use the DataSource initialized last.
    for (const metadata of this.#shared) {
      const target = metadata.target;
      if (typeof target === "function" && target.prototype instanceof BaseEntity) {
        (target as typeof BaseEntity).useDataSource(this);
      }
    }
  }
}

// TypeORM's MixedList: an array, or an object whose values are the items.
function listOf<T>(list: T[] | Record<string, T> | undefined): T[] {
  if (!list) return [];
  return Array.isArray(list) ? list : Object.values(list);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => sameValue(item, b[index]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((key) => sameValue(a[key], b[key]));
  }
  return false;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}
