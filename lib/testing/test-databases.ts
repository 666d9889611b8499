import type { DataSourceOptions } from "typeorm";
import { messageOf } from "../errors";
import { toDatabaseConfig } from "../config/router-options";
import { dialectFor, type ScratchDatabase } from "../dialects";
import { defaultTestServer, testingDialectFor } from "../dialects/testing-dialects";
import { TenantRouter, type TenantRouterOptions } from "../tenant-router";

/** Options of {@link createTestDatabases}. */
export interface TestDatabasesOptions {
  /** The tenants to create test databases for. Default: none. */
  readonly tenants?: readonly string[];
  /**
   * Runs once, after every test database exists, with the test router: load fixtures here,
   * including into test copies of read-only databases (test mode allows the writes).
   */
  readonly seed?: (router: TenantRouter) => Promise<void>;
  /**
   * Where the test databases go: DataSource options of a PostgreSQL, MySQL or MariaDB server
   * (uniquely named temporary databases are created on it). Default: the app's own server
   * when its first database is MySQL or MariaDB (SQLite cannot hold that schema), else SQLite
   * files in temporary folders (with the app's `sqlite` driver when it uses node-sqlite3).
   */
  readonly server?: DataSourceOptions;
}

/** The test databases made by {@link createTestDatabases}. */
export interface TestDatabases {
  /** A router in test mode whose every alias and tenant is a test database. */
  readonly router: TenantRouter;
  /** The tenants that have test databases. */
  readonly tenants: readonly string[];
  /** The options of each test database, keyed `alias:<name>` or `tenant:<id>`. */
  readonly databases: ReadonlyMap<string, DataSourceOptions>;
  /** Closes the router and drops every database created; safe to call twice, even after a failure. */
  teardown(): Promise<void>;
}

// The tenant whose database becomes the template every test tenant is cloned from.
const TEMPLATE_TENANT = "typeorm-router-template";

/**
 * Creates a test database for every alias and every given tenant, and a router in test mode
 * over them.
 *
 * Tenant databases are cloned from one template that is migrated (or, without migrations,
 * synchronized) once: N tenants cost one migration, not N (`CREATE DATABASE … TEMPLATE` on
 * PostgreSQL, a file copy on SQLite; on MySQL/MariaDB, which have no TEMPLATE, each table is
 * recreated from `SHOW CREATE TABLE` and its rows copied). `seed` runs once per call, so call this in `beforeAll`.
 * If anything fails, everything created so far is dropped before the error is rethrown.
 *
 * @example
 * ```ts
 * let db: TestDatabases;
 * beforeAll(async () => { db = await createTestDatabases(config, { tenants: ["a", "b"], seed }); });
 * afterAll(() => db.teardown());
 * ```
 */
export async function createTestDatabases(
  configOrRouter: TenantRouterOptions | TenantRouter,
  options: TestDatabasesOptions = {},
): Promise<TestDatabases> {
  const config = configOrRouter instanceof TenantRouter ? configOrRouter.options : configOrRouter;
  const tenants = [...(options.tenants ?? [])];
  const server: DataSourceOptions = options.server ?? defaultTestServer(appOptions(config));
  const dialect = dialectFor(server);
  const created: ScratchDatabase[] = [];
  const scratch = async (make: () => Promise<ScratchDatabase>) => {
    const database = await make();
    created.push(database);
    return database.options;
  };
  let router: TenantRouter | undefined;
  const teardown = once(async () => {
    const steps = [router?.close(), ...created.reverse().map((database) => database.drop())];
    const failures = (await Promise.allSettled(steps)).filter((r) => r.status === "rejected");
    if (failures.length > 0) {
      const reasons = failures.map((f) => messageOf((f as PromiseRejectedResult).reason));
      throw new AggregateError(
        failures.map((f) => (f as PromiseRejectedResult).reason),
        `Tearing down test databases failed ${failures.length} time(s): ${reasons.join("; ")}`,
      );
    }
  });
  try {
    const databases = new Map<string, DataSourceOptions>();
    for (const alias of Object.keys(config.databases)) {
      databases.set(`alias:${alias}`, await scratch(() => dialect.createScratchDatabase(server)));
    }
    if (config.tenants && tenants.length > 0) {
      const template = await scratch(() => dialect.createScratchDatabase(server));
      const builder = await TenantRouter.create(
        testConfig(config, databases, [TEMPLATE_TENANT], () => template),
      );
      try {
        // Opening a test database migrates it (or synchronizes it without migrations).
        await builder.query({ tenant: TEMPLATE_TENANT }, "SELECT 1", [], { operation: "read" });
      } finally {
        await builder.close();
      }
      for (const tenant of tenants) {
        databases.set(
          `tenant:${tenant}`,
          await scratch(() => testingDialectFor(template).cloneDatabase(template)),
        );
      }
    }
    // Unknown tenants never reach this (the directory refuses them); the fallback only serves
    // the never-connected metadata blueprint.
    const fallback = databases.get(`tenant:${tenants[0]}`) ?? server;
    router = await TenantRouter.create(
      testConfig(
        config,
        databases,
        tenants,
        (tenant) => databases.get(`tenant:${tenant}`) ?? fallback,
      ),
    );
    await options.seed?.(router);
    return Object.freeze({ router, tenants: Object.freeze(tenants), databases, teardown });
  } catch (error) {
    await teardown().catch(() => undefined);
    throw error;
  }
}

// The user's configuration in test mode, pointed at the test databases.
function testConfig(
  config: TenantRouterOptions,
  databases: ReadonlyMap<string, DataSourceOptions>,
  tenants: readonly string[],
  tenantOptions: (tenant: string) => DataSourceOptions,
): TenantRouterOptions {
  return {
    ...config,
    testMode: true,
    databases: Object.fromEntries(
      Object.entries(config.databases).map(([alias, value]) => {
        const database = toDatabaseConfig(value);
        const own = "primary" in database ? database.primary : database.options;
        const test = databases.get(`alias:${alias}`);
        return [alias, { ...database, testOptions: test && withCarried(own, test) }];
      }),
    ),
    tenants: config.tenants && {
      ...config.tenants,
      list: tenants,
      testOptions: (tenant: string) =>
        withCarried(tenantAppOptions(config, tenant), tenantOptions(tenant)),
      // Test tenants are listed statically; nothing is registered in the user's directory.
      register: undefined,
      unregister: undefined,
    },
  };
}

// What a test database keeps of the app database it stands for: every option that shapes
// behaviour rather than the connection (subscribers, logging, naming), whatever the driver.
const CARRIED_KEYS = [
  "subscribers",
  "logging",
  "logger",
  "namingStrategy",
  "entityPrefix",
  "maxQueryExecutionTime",
  "entitySkipConstructor",
] as const;

// `test`, with what it keeps of `app`.
function withCarried(
  app: DataSourceOptions | undefined,
  test: DataSourceOptions,
): DataSourceOptions {
  if (!app) return test;
  const kept: Record<string, unknown> = {};
  for (const key of CARRIED_KEYS) {
    const value = (app as unknown as Record<string, unknown>)[key];
    if (value !== undefined) kept[key] = value;
  }
  return { ...kept, ...test } as DataSourceOptions;
}

// The app options of `tenant`'s real database, without opening anything: `tenants.options`,
// or the strategy's.
function tenantAppOptions(
  config: TenantRouterOptions,
  tenant: string,
): DataSourceOptions | undefined {
  const tenants = config.tenants;
  if (!tenants) return undefined;
  return tenants.options ? tenants.options(tenant) : tenants.strategy?.optionsFor(tenant);
}

// The options of the app's first database (its primary when it has replicas).
function appOptions(config: TenantRouterOptions): DataSourceOptions | undefined {
  const first = Object.values(config.databases)[0];
  if (!first) return undefined;
  const database = toDatabaseConfig(first);
  return "primary" in database ? database.primary : database.options;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}
