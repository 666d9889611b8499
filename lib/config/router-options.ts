import { InstanceChecker, type DataSourceOptions } from "typeorm";
import { TENANT_ID_PATTERN } from "../context/tenant-id";
import { ConfigurationError } from "../errors";
import type { PoolOptions } from "../pool/data-source-pool";
import {
  DEFAULT_ALIAS,
  TENANT_GROUP,
  type EntitySource,
  type PlacementOption,
} from "../registry/entity-registry";
import type { Router } from "../routing/router-chain";
import { databasePerTenant } from "../tenants/strategies/database-per-tenant";
import type { TenantStrategy } from "../tenants/strategies/tenant-strategy";
import type { MigrationsOptions } from "../migrations/migration-set";
import { RouterLog } from "../observability/router-log";
import type { RouterLogger } from "../observability/router-logger";

/** Settings every named database can have. */
export interface DatabaseSettings {
  /** Refuse every write to it outside test mode (`ReadOnlyDatabaseError`). */
  readonly readOnly?: boolean;
  /** Options of its test copy in test mode. Default: a temporary SQLite file. */
  readonly testOptions?: DataSourceOptions;
}

/** A named database with routing settings. */
export interface SingleDatabaseConfig extends DatabaseSettings {
  /** TypeORM options of the database, without `entities` or `migrations` (the router adds them). */
  readonly options: DataSourceOptions;
}

/**
 * A named database with read replicas: reads go to a replica, writes and transactions to the
 * primary, and a context that wrote reads from the primary for `stickyMs` afterwards.
 */
export interface ReplicatedDatabaseConfig extends DatabaseSettings {
  /** TypeORM options of the primary. */
  readonly primary: DataSourceOptions;
  /** TypeORM options of each read replica (never migrated or written by the router). */
  readonly replicas: readonly DataSourceOptions[];
  /** Read-your-writes window after a write, in ms. Default 2000 (as in Rails). */
  readonly stickyMs?: number;
}

/** A named database: one server, or a primary with read replicas. */
export type DatabaseConfig = SingleDatabaseConfig | ReplicatedDatabaseConfig;

/**
 * How tenants are known: a static list, or a function (sync or async) that lists them, given
 * the router `R` so it can read a table in `default` (see `tenantsFromEntity`). The public
 * `TenantList` is this type over `TenantRouter`; the router type is a parameter here so that
 * configuration never imports the façade that is built from it.
 */
export type TenantListOf<R> =
  readonly string[] | ((router: R) => readonly string[] | Promise<readonly string[]>);

/** Persists tenants created or dropped through the router `R` (see `tenantsFromEntity`). */
export interface TenantRegistrationOf<R> {
  /** Records a new tenant where `tenants.list` reads it from. */
  readonly register?: (tenant: string, router: R) => Promise<void>;
  /** Removes a dropped tenant from where `tenants.list` reads it. */
  readonly unregister?: (tenant: string, router: R) => Promise<void>;
}

/** How tenants are known and where their databases are. Give `options` or `strategy`. */
export interface TenantsConfigOf<R> extends TenantRegistrationOf<R> {
  /** The tenants: a static list or a function listing them (see `tenantsFromEntity`). */
  readonly list: TenantListOf<R>;
  /** Database-per-tenant: the DataSource options of one tenant's database. */
  readonly options?: (tenant: string) => DataSourceOptions;
  /** A tenant strategy, instead of `options`. */
  readonly strategy?: TenantStrategy;
  /** Options of a tenant's test database in test mode. Default: a temporary SQLite file. */
  readonly testOptions?: (tenant: string) => DataSourceOptions;
  /** On a miss, re-read the list at most this often (ms). Default 1000. */
  readonly refreshIntervalMs?: number;
}

/** The options of `TenantRouter.create`, over the router type `R` handed to tenant callbacks. */
export interface RouterOptionsOf<R> {
  /**
   * Entity classes, `EntitySchema` objects and globs; globs are imported eagerly at bootstrap
   * (a file's exported classes and EntitySchemas are all discovered).
   */
  readonly entities: readonly EntitySource[];
  /**
   * Placements by entity name (class name, or EntitySchema `name`), instead of or besides
   * decorators: `{ Note: "tenant", PageView: "analytics", Customer: { routedTo: "legacy",
   * readOnly: true } }`. A name that no discovered entity has fails bootstrap.
   */
  readonly placements?: Readonly<Record<string, PlacementOption>>;
  /** Named databases; `default` is required. A value is DataSource options or a config. */
  readonly databases: { readonly [alias: string]: DataSourceOptions | DatabaseConfig };
  /** Tenants; required when any entity is `@External`. */
  readonly tenants?: TenantsConfigOf<R>;
  /** Custom routers, consulted before the decorator rules; the first definite answer wins. */
  readonly routers?: readonly Router[];
  /** Route every alias and tenant to a test database and allow writes to read-only ones. */
  readonly testMode?: boolean;
  /**
   * What to do about entities TypeORM knows but `entities` did not discover: `"error"`
   * (default) fails bootstrap; `"ignore"` is for entities that belong to another DataSource.
   */
  readonly undiscoveredEntities?: "error" | "ignore";
  /** Limits of the tenant DataSource pool. */
  readonly pool?: PoolOptions;
  /** Directory relative globs are resolved from. Default `process.cwd()`. */
  readonly cwd?: string;
  /**
   * Migration sets per group (classes or globs, imported at bootstrap): `default`, `tenant`,
   * any alias, or a custom group that a router's `allowMigrate` places.
   */
  readonly migrations?: MigrationsOptions;
  /** Each group's migrations table is `<prefix><group>`. Default `"migrations_"`. */
  readonly migrationsTablePrefix?: string;
  /**
   * Where the router logs, with structured fields (tenant, database, operation, duration).
   * Default: the `debug` namespaces `typeorm-router:route`, `:pool`, `:migrate`, `:tenant`
   * (`DEBUG=typeorm-router:*`), and warnings through `process.emitWarning`. `false`: nothing.
   */
  readonly logger?: RouterLogger | false;
  /** Warnings are written once per code and tenant (or database) per this many ms. Default 60,000. */
  readonly warningIntervalMs?: number;
}

/** A database after validation. */
export interface NormalizedDatabase {
  readonly alias: string;
  /** The (primary's) options. */
  readonly options: DataSourceOptions;
  readonly replicas: readonly DataSourceOptions[];
  readonly stickyMs: number;
  readonly readOnly: boolean;
  readonly testOptions: DataSourceOptions | undefined;
}

/** Tenants after validation. */
export interface NormalizedTenants<R = never> {
  readonly list: TenantListOf<R>;
  readonly registration: TenantRegistrationOf<R>;
  readonly strategy: TenantStrategy;
  readonly testOptions: ((tenant: string) => DataSourceOptions) | undefined;
  readonly refreshIntervalMs: number;
}

/** The options of `TenantRouter.create` after validation. */
export interface NormalizedOptions<R = never> {
  /** The options as given. */
  readonly source: RouterOptionsOf<R>;
  readonly entities: readonly EntitySource[];
  readonly placements: Readonly<Record<string, PlacementOption>>;
  readonly databases: ReadonlyMap<string, NormalizedDatabase>;
  readonly tenants: NormalizedTenants<R> | undefined;
  readonly routers: readonly Router[];
  readonly testMode: boolean;
  readonly undiscoveredEntities: "error" | "ignore";
  readonly pool: Required<PoolOptions>;
  readonly cwd: string;
  readonly migrations: MigrationsOptions;
  readonly migrationsTablePrefix: string;
  /** The router's logs, over `logger`. */
  readonly log: RouterLog;
}

// The router owns these: it sets entities and migrations per placement, and never lets
// TypeORM drop or migrate a database on initialize().
const OWNED_KEYS = ["entities", "migrations", "migrationsRun", "dropSchema"] as const;

/**
 * Validates and normalizes `TenantRouter.create` options.
 *
 * @throws ConfigurationError naming the first invalid option and how to fix it.
 */
export function normalizeOptions<R>(options: RouterOptionsOf<R>): NormalizedOptions<R> {
  if (!options || typeof options !== "object") {
    throw ConfigurationError.invalid(
      "TenantRouter.create(options)",
      "options are missing",
      "Pass { entities, databases, tenants }.",
    );
  }
  checkKeys(options, ROUTER_OPTION_KEYS, "TenantRouter.create(options)");
  checkOptionalType(options.testMode, "boolean", "testMode", "Pass testMode: true or false.");
  checkOptionalType(options.cwd, "string", "cwd", "Pass a folder path, e.g. cwd: __dirname.");
  if (!Array.isArray(options.entities)) {
    throw ConfigurationError.invalid(
      "entities",
      "it must be an array of entity classes and globs",
      'Pass e.g. entities: ["src/**/*.entity.{ts,js}"].',
    );
  }
  for (const [index, source] of options.entities.entries()) {
    if (
      typeof source !== "function" &&
      !InstanceChecker.isEntitySchema(source) &&
      (typeof source !== "string" || source.length === 0)
    ) {
      throw ConfigurationError.invalid(
        `entities[${index}]`,
        `${JSON.stringify(source)} is neither a class, an EntitySchema nor a glob`,
        "Pass entity classes, EntitySchema objects or non-empty glob strings.",
      );
    }
  }
  const placements = normalizePlacements(options.placements);
  const databases = normalizeDatabases(options.databases);
  const tenants = options.tenants === undefined ? undefined : normalizeTenants(options.tenants);
  const routers = options.routers ?? [];
  if (!Array.isArray(routers) || routers.some((router) => !router || typeof router !== "object")) {
    throw ConfigurationError.invalid(
      "routers",
      "it must be an array of router objects",
      "Pass objects with dbForRead/dbForWrite/allowRelation/allowMigrate methods.",
    );
  }
  const undiscoveredEntities = options.undiscoveredEntities ?? "error";
  if (undiscoveredEntities !== "error" && undiscoveredEntities !== "ignore") {
    throw ConfigurationError.invalid(
      "undiscoveredEntities",
      `${JSON.stringify(undiscoveredEntities)} is not allowed`,
      'Use "error" or "ignore".',
    );
  }
  return Object.freeze({
    source: options,
    entities: Object.freeze([...options.entities]),
    placements,
    databases,
    tenants,
    routers: Object.freeze([...routers]),
    testMode: options.testMode === true,
    undiscoveredEntities,
    pool: normalizePool(options.pool ?? {}),
    cwd: options.cwd ?? process.cwd(),
    migrations: normalizeMigrations(options.migrations ?? {}),
    migrationsTablePrefix: normalizePrefix(options.migrationsTablePrefix ?? "migrations_"),
    log: normalizeLogging(options.logger, options.warningIntervalMs),
  });
}

const PLACEMENT_KEYS = ["external", "routedTo", "readOnly", "unmanaged"] as const;

// The shape of each placement; entity names and aliases are checked at discovery, which
// knows them.
function normalizePlacements(
  placements: RouterOptionsOf<unknown>["placements"],
): Readonly<Record<string, PlacementOption>> {
  if (placements === undefined) return Object.freeze({});
  const fix =
    'Map entity names to "tenant", an alias, or { external?, routedTo?, readOnly?, unmanaged? }, e.g. placements: { Note: "tenant" }.';
  if (!placements || typeof placements !== "object" || Array.isArray(placements)) {
    throw ConfigurationError.invalid("placements", "it must be an object", fix);
  }
  for (const [name, option] of Object.entries(placements)) {
    const where = `placements.${name}`;
    if (typeof option === "string") {
      if (option.length === 0) throw ConfigurationError.invalid(where, "it is empty", fix);
      continue;
    }
    if (!option || typeof option !== "object") {
      throw ConfigurationError.invalid(where, `${JSON.stringify(option)} is not a placement`, fix);
    }
    checkKeys(option, PLACEMENT_KEYS, where);
    checkOptionalType(option.external, "boolean", `${where}.external`, fix);
    checkOptionalType(option.readOnly, "boolean", `${where}.readOnly`, fix);
    checkOptionalType(option.routedTo, "string", `${where}.routedTo`, fix);
    const { unmanaged } = option;
    if (unmanaged !== undefined && typeof unmanaged !== "boolean") {
      if (!unmanaged || typeof unmanaged !== "object") {
        throw ConfigurationError.invalid(
          `${where}.unmanaged`,
          "it must be a boolean or { createInTests }",
          fix,
        );
      }
      checkKeys(unmanaged, ["createInTests"], `${where}.unmanaged`);
      checkOptionalType(
        unmanaged.createInTests,
        "boolean",
        `${where}.unmanaged.createInTests`,
        fix,
      );
    }
  }
  return Object.freeze({ ...placements });
}

function normalizeDatabases(
  databases: RouterOptionsOf<unknown>["databases"] | undefined,
): ReadonlyMap<string, NormalizedDatabase> {
  if (!databases || typeof databases !== "object" || !(DEFAULT_ALIAS in databases)) {
    throw ConfigurationError.invalid(
      "databases",
      'there is no "default" database',
      'Pass databases: { default: { type: "better-sqlite3", database: "app.db" } }.',
    );
  }
  const normalized = new Map<string, NormalizedDatabase>();
  for (const [alias, value] of Object.entries(databases)) {
    if (alias === TENANT_GROUP || !/^[A-Za-z0-9_-]+$/.test(alias)) {
      throw ConfigurationError.invalid(
        `databases.${alias}`,
        `"${alias}" cannot be an alias name`,
        `Use letters, digits, "_" and "-"; "${TENANT_GROUP}" is reserved for tenant databases.`,
      );
    }
    if (isDatabaseConfig(value)) {
      checkKeys(value, DATABASE_CONFIG_KEYS, `databases.${alias}`);
      checkOptionalType(
        value.readOnly,
        "boolean",
        `databases.${alias}.readOnly`,
        "Pass readOnly: true or false.",
      );
    }
    const config = toDatabaseConfig(value);
    const replicated = "primary" in config;
    const options = replicated ? config.primary : config.options;
    const where = `databases.${alias}${isDatabaseConfig(value) ? (replicated ? ".primary" : ".options") : ""}`;
    checkDataSourceOptions(options, where);
    if (config.testOptions !== undefined)
      checkDataSourceOptions(config.testOptions, `databases.${alias}.testOptions`);
    const replicas = replicated ? normalizeReplicas(config, alias) : [];
    normalized.set(
      alias,
      Object.freeze({
        alias,
        options,
        replicas,
        stickyMs: replicated ? (config.stickyMs ?? 2000) : 0,
        readOnly: config.readOnly === true,
        testOptions: config.testOptions,
      }),
    );
  }
  return normalized;
}

function normalizeTenants<R>(tenants: TenantsConfigOf<R>): NormalizedTenants<R> {
  if (!tenants || typeof tenants !== "object") {
    throw ConfigurationError.invalid(
      "tenants",
      `${JSON.stringify(tenants)} is not an object`,
      "Pass tenants: { list, options } or { list, strategy }.",
    );
  }
  checkKeys(tenants, TENANTS_KEYS, "tenants");
  const { list } = tenants;
  if (typeof list !== "function" && !Array.isArray(list)) {
    throw ConfigurationError.invalid(
      "tenants.list",
      "it must be an array of tenant ids or a function",
      'Pass list: ["acme", "globex"] or list: async () => [...].',
    );
  }
  if (Array.isArray(list)) checkStaticList(list);
  if (
    tenants.strategy !== undefined &&
    (typeof tenants.strategy !== "object" || typeof tenants.strategy?.optionsFor !== "function")
  ) {
    throw ConfigurationError.invalid(
      "tenants.strategy",
      "it is not a tenant strategy (an object with optionsFor(tenant))",
      "Pass schemaPerTenant({ base }) or databasePerTenant((tenant) => options).",
    );
  }
  if (tenants.testOptions !== undefined && typeof tenants.testOptions !== "function") {
    throw ConfigurationError.invalid(
      "tenants.testOptions",
      "it must be a function of the tenant id",
      "Pass testOptions: (tenant) => ({ type: ..., database: ... }).",
    );
  }
  if ((tenants.options === undefined) === (tenants.strategy === undefined)) {
    throw ConfigurationError.invalid(
      "tenants",
      "give exactly one of options or strategy",
      "Pass options: (tenant) => DataSourceOptions for a database per tenant, or a strategy.",
    );
  }
  if (tenants.options !== undefined && typeof tenants.options !== "function") {
    throw ConfigurationError.invalid(
      "tenants.options",
      "it must be a function of the tenant id",
      "Pass options: (tenant) => ({ type: ..., database: ... }).",
    );
  }
  const refreshIntervalMs = tenants.refreshIntervalMs ?? 1000;
  checkNonNegative(refreshIntervalMs, "tenants.refreshIntervalMs");
  for (const hook of ["register", "unregister"] as const) {
    if (tenants[hook] !== undefined && typeof tenants[hook] !== "function") {
      throw ConfigurationError.invalid(
        `tenants.${hook}`,
        "it must be a function",
        `Pass ${hook}: async (tenant, router) => { ... }, or leave it out.`,
      );
    }
  }
  return Object.freeze({
    list,
    registration: Object.freeze({ register: tenants.register, unregister: tenants.unregister }),
    strategy: tenants.strategy ?? databasePerTenant(tenants.options!),
    testOptions: tenants.testOptions,
    refreshIntervalMs,
  });
}

function normalizeMigrations(migrations: MigrationsOptions): MigrationsOptions {
  if (typeof migrations !== "object" || migrations === null || Array.isArray(migrations)) {
    throw ConfigurationError.invalid(
      "migrations",
      "it must map group names to lists of migrations",
      'Pass e.g. migrations: { default: [...], tenant: ["migrations/tenant/*.ts"] }.',
    );
  }
  for (const [group, sources] of Object.entries(migrations)) {
    if (!/^[A-Za-z0-9_-]+$/.test(group)) {
      throw ConfigurationError.invalid(
        `migrations.${group}`,
        `"${group}" cannot be a group name`,
        'Use letters, digits, "_" and "-".',
      );
    }
    if (
      !Array.isArray(sources) ||
      sources.some((s) => typeof s !== "function" && (typeof s !== "string" || s.length === 0))
    ) {
      throw ConfigurationError.invalid(
        `migrations.${group}`,
        "it must be an array of migration classes and globs",
        'Pass e.g. [CreateUsers1700000000000, "migrations/default/*.ts"].',
      );
    }
  }
  return Object.freeze({ ...migrations });
}

function normalizePrefix(prefix: string): string {
  if (typeof prefix !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)) {
    throw ConfigurationError.invalid(
      "migrationsTablePrefix",
      `${JSON.stringify(prefix)} is not a valid table name prefix`,
      'Use letters, digits and "_", e.g. "migrations_".',
    );
  }
  return prefix;
}

function normalizePool(pool: PoolOptions): Required<PoolOptions> {
  if (typeof pool !== "object" || pool === null) {
    throw ConfigurationError.invalid(
      "pool",
      `${JSON.stringify(pool)} is not an object`,
      "Pass e.g. pool: { maxOpenTenants: 100 }.",
    );
  }
  checkKeys(pool, POOL_KEYS, "pool");
  const normalized = {
    maxOpenTenants: pool.maxOpenTenants ?? 100,
    idleTimeoutMs: pool.idleTimeoutMs ?? 300_000,
    acquireTimeoutMs: pool.acquireTimeoutMs ?? 30_000,
    closeTimeoutMs: pool.closeTimeoutMs ?? 10_000,
  };
  if (!Number.isInteger(normalized.maxOpenTenants) || normalized.maxOpenTenants < 1) {
    throw ConfigurationError.invalid(
      "pool.maxOpenTenants",
      `${normalized.maxOpenTenants} is not a positive integer`,
      "Pass the most tenant DataSources to keep open, e.g. 100.",
    );
  }
  checkNonNegative(normalized.idleTimeoutMs, "pool.idleTimeoutMs");
  checkNonNegative(normalized.acquireTimeoutMs, "pool.acquireTimeoutMs");
  checkNonNegative(normalized.closeTimeoutMs, "pool.closeTimeoutMs");
  return Object.freeze(normalized);
}

/**
 * Checks DataSource options given to the router.
 *
 * @throws ConfigurationError when they have no `type` or set keys the router owns.
 */
export function checkDataSourceOptions(options: DataSourceOptions, where: string): void {
  if (!options || typeof options !== "object" || typeof options.type !== "string") {
    throw ConfigurationError.invalid(
      where,
      "it has no driver type",
      'Pass TypeORM DataSource options such as { type: "better-sqlite3", database: "app.db" }.',
    );
  }
  const owned = OWNED_KEYS.filter(
    (key) => (options as unknown as Record<string, unknown>)[key] !== undefined,
  );
  if (owned.length > 0) {
    throw ConfigurationError.invalid(
      where,
      `it sets ${owned.join(", ")}, which the router manages per placement`,
      "Remove them: give entities once to TenantRouter.create({ entities }); migrations and schema changes go through the router.",
    );
  }
}

/** A `databases` entry as a {@link DatabaseConfig}, whichever form it was given in. */
export function toDatabaseConfig(value: DataSourceOptions | DatabaseConfig): DatabaseConfig {
  return isDatabaseConfig(value) ? value : { options: value };
}

function isDatabaseConfig(value: DataSourceOptions | DatabaseConfig): value is DatabaseConfig {
  return (
    typeof value === "object" &&
    value !== null &&
    ("options" in value || "primary" in value) &&
    !("type" in value)
  );
}

function normalizeReplicas(
  config: ReplicatedDatabaseConfig,
  alias: string,
): readonly DataSourceOptions[] {
  if (!Array.isArray(config.replicas) || config.replicas.length === 0) {
    throw ConfigurationError.invalid(
      `databases.${alias}.replicas`,
      "it must be a non-empty array of DataSource options",
      "List each read replica's options, or use { options } for a database without replicas.",
    );
  }
  config.replicas.forEach((replica, index) =>
    checkDataSourceOptions(replica, `databases.${alias}.replicas[${index}]`),
  );
  if (config.stickyMs !== undefined)
    checkNonNegative(config.stickyMs, `databases.${alias}.stickyMs`);
  return Object.freeze([...config.replicas]);
}

// Every key each options object may have: a misspelt key ("testmode", "refreshInterval") is
// a setting silently ignored, so it fails bootstrap instead.
const ROUTER_OPTION_KEYS = [
  "entities",
  "placements",
  "databases",
  "tenants",
  "routers",
  "testMode",
  "undiscoveredEntities",
  "pool",
  "cwd",
  "migrations",
  "migrationsTablePrefix",
  "logger",
  "warningIntervalMs",
] as const satisfies readonly (keyof RouterOptionsOf<unknown>)[];
const TENANTS_KEYS = [
  "list",
  "options",
  "strategy",
  "testOptions",
  "refreshIntervalMs",
  "register",
  "unregister",
] as const satisfies readonly (keyof TenantsConfigOf<unknown>)[];
const DATABASE_CONFIG_KEYS = [
  "options",
  "primary",
  "replicas",
  "stickyMs",
  "readOnly",
  "testOptions",
] as const;
const POOL_KEYS = [
  "maxOpenTenants",
  "idleTimeoutMs",
  "acquireTimeoutMs",
  "closeTimeoutMs",
] as const satisfies readonly (keyof PoolOptions)[];

/**
 * Checks that `value` sets no key but `known`.
 *
 * @throws ConfigurationError listing every unknown key of `where`.
 */
export function checkKeys(value: object, known: readonly string[], where: string): void {
  const unknown = Object.keys(value).filter(
    (key) => !known.includes(key) && (value as Record<string, unknown>)[key] !== undefined,
  );
  if (unknown.length === 0) return;
  throw ConfigurationError.invalid(
    where,
    `unknown option(s) ${unknown.map((key) => `"${key}"`).join(", ")}`,
    `Remove or correct them; the known options are ${known.map((key) => `"${key}"`).join(", ")}.`,
  );
}

function checkOptionalType(
  value: unknown,
  type: "boolean" | "string",
  where: string,
  fix: string,
): void {
  if (value === undefined || typeof value === type) return;
  throw ConfigurationError.invalid(where, `${JSON.stringify(value)} is not a ${type}`, fix);
}

// A static list is known at bootstrap: every id is checked now, not at the first request.
function checkStaticList(list: readonly unknown[]): void {
  const invalid = list.filter((id) => typeof id !== "string" || !TENANT_ID_PATTERN.test(id));
  if (invalid.length > 0) {
    throw ConfigurationError.invalid(
      "tenants.list",
      `${invalid.map((id) => JSON.stringify(id) ?? String(id)).join(", ")} ${invalid.length === 1 ? "is not a valid tenant id" : "are not valid tenant ids"}`,
      `Tenant ids must match ${TENANT_ID_PATTERN} (lowercase letters, digits, "_" and "-").`,
    );
  }
  const duplicates = [...new Set(list.filter((id, index) => list.indexOf(id) !== index))];
  if (duplicates.length > 0) {
    throw ConfigurationError.invalid(
      "tenants.list",
      `${duplicates.map((id) => JSON.stringify(id)).join(", ")} ${duplicates.length === 1 ? "is" : "are"} listed more than once`,
      "List each tenant once.",
    );
  }
}

const LOGGER_METHODS = ["debug", "info", "warn", "error"] as const;

function normalizeLogging(
  logger: RouterLogger | false | undefined,
  warningIntervalMs: number | undefined,
): RouterLog {
  if (logger !== undefined && logger !== false) {
    if (logger === null || typeof logger !== "object") {
      throw ConfigurationError.invalid(
        "logger",
        `${JSON.stringify(logger)} is not a logger`,
        "Pass an object with debug/info/warn/error methods (each optional), or false.",
      );
    }
    for (const method of LOGGER_METHODS) {
      const value = (logger as Record<string, unknown>)[method];
      if (value !== undefined && typeof value !== "function") {
        throw ConfigurationError.invalid(
          `logger.${method}`,
          `it is a ${typeof value}, not a function`,
          `Pass ${method}: (message, record) => ... or leave it out to drop that level.`,
        );
      }
    }
  }
  if (warningIntervalMs !== undefined) checkNonNegative(warningIntervalMs, "warningIntervalMs");
  return RouterLog.create({ logger, warningIntervalMs });
}

function checkNonNegative(value: number, where: string): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw ConfigurationError.invalid(
      where,
      `${value} is not a non-negative number`,
      "Pass a number of milliseconds.",
    );
  }
}
