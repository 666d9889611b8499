import type { DataSourceOptions, QueryRunner } from "typeorm";
import { ConfigurationError } from "../../errors";
import { SharedPostgresPool } from "./shared-postgres-pool";
import type { BulkMigrationState, TenantStrategy } from "./tenant-strategy";

// Derived from DataSourceOptions: TypeORM 0.3 has no typeorm/driver/postgres/PostgresDataSourceOptions.
type PostgresDataSourceOptions = Extract<DataSourceOptions, { type: "postgres" }>;

/** Options of {@link schemaPerTenant}. */
export interface SchemaPerTenantOptions {
  /** The PostgreSQL database that holds every tenant's schema. */
  readonly base: PostgresDataSourceOptions;
  /** The schema of a tenant. Default: `tenant_<id>`. */
  readonly schema?: (tenant: string) => string;
  /**
   * The most PostgreSQL connections the process holds for all tenants together, however
   * many are active (one pool shared by every tenant DataSource). Default 10.
   */
  readonly maxConnections?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_$-]{0,62}$/;

/**
 * Puts every tenant in a schema of one PostgreSQL database.
 *
 * - ORM queries use schema-qualified table names (each tenant DataSource has its `schema`),
 *   so they can never reach another tenant's tables.
 * - Raw SQL in migrations, `router.query({ tenant })` and transactions runs after
 *   `SET LOCAL search_path`, which ends with the transaction: nothing leaks to the next
 *   borrower of the connection, with or without PgBouncer in transaction mode.
 * - All tenant DataSources share one connection pool capped at `maxConnections`.
 * - Migration state of every tenant is read with one query.
 *
 * @example
 * ```ts
 * tenants: { list, strategy: schemaPerTenant({ base: { type: "postgres", url }, maxConnections: 20 }) }
 * ```
 * @throws ConfigurationError for a non-postgres base or an invalid cap.
 */
export function schemaPerTenant(options: SchemaPerTenantOptions): TenantStrategy {
  if (options.base?.type !== "postgres") {
    throw ConfigurationError.invalid(
      "schemaPerTenant({ base })",
      "the base must be PostgreSQL options",
      'Pass base: { type: "postgres", url: ... }.',
    );
  }
  const maxConnections = options.maxConnections ?? 10;
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    throw ConfigurationError.invalid(
      "schemaPerTenant({ maxConnections })",
      `${maxConnections} is not a positive integer`,
      "Pass the most connections to hold, e.g. 20.",
    );
  }
  const schemaOf = (tenant: string): string => {
    const schema = options.schema ? options.schema(tenant) : `tenant_${tenant}`;
    if (typeof schema !== "string" || !SCHEMA_NAME.test(schema)) {
      throw ConfigurationError.invalid(
        `schemaPerTenant({ schema })("${tenant}")`,
        `it returned ${JSON.stringify(schema)}`,
        "Return a lowercase schema name of at most 63 characters.",
      );
    }
    return schema;
  };
  let shared: SharedPostgresPool | undefined;
  const pool = (): SharedPostgresPool => {
    shared ??= new SharedPostgresPool({ ...credentialsOf(options.base), max: maxConnections });
    return shared;
  };
  const run = async (sql: string, parameters?: unknown[]): Promise<Record<string, unknown>[]> =>
    (await pool().pool.query(sql, parameters)).rows as Record<string, unknown>[];

  return Object.freeze({
    name: "schema-per-tenant",
    scopeDescription: "a schema reached through SET LOCAL search_path",
    optionsFor(tenant: string): DataSourceOptions {
      return {
        ...options.base,
        schema: schemaOf(tenant),
        driver: pool().driver,
        // Never pg-native: TypeORM would swap the shared pool's `pg` for `pg.native`, whose
        // pools are per DataSource (PostgresDriver.loadDependencies), and it would try to
        // require("pg-native") on every tenant open, a failed module lookup each time.
        nativeDriver: false,
        poolSize: maxConnections,
      };
    },
    async scopeTransaction(tenant: string, queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`SET LOCAL search_path TO ${quote(schemaOf(tenant))}, public`);
    },
    async createStorage(tenant: string): Promise<void> {
      await run(`CREATE SCHEMA ${quote(schemaOf(tenant))}`);
    },
    async dropStorage(tenant: string): Promise<void> {
      await run(`DROP SCHEMA IF EXISTS ${quote(schemaOf(tenant))} CASCADE`);
    },
    async readMigrationState(
      tenants: readonly string[],
      tables: readonly string[],
    ): Promise<BulkMigrationState> {
      const bySchema = new Map(tenants.map((tenant) => [schemaOf(tenant), tenant]));
      // One catalog query finds which schemas have which migrations tables...
      const present = await run(
        `SELECT n.nspname AS schema, c.relname AS "table" FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'r' AND n.nspname = ANY($1) AND c.relname = ANY($2)`,
        [[...bySchema.keys()], [...tables]],
      );
      const state = new Map<string, Map<string, Set<string>>>();
      for (const row of present) {
        const tenant = bySchema.get(String(row.schema))!;
        if (!state.has(tenant)) state.set(tenant, new Map());
        state.get(tenant)!.set(String(row.table), new Set());
      }
      if (present.length === 0) return state;
      // ...and one UNION ALL reads every one of them.
      const selects = present.map(
        (row, index) =>
          `SELECT ${index} AS i, name FROM ${quote(String(row.schema))}.${quote(String(row.table))}`,
      );
      for (const row of await run(selects.join(" UNION ALL "))) {
        const source = present[Number(row.i)];
        state
          .get(bySchema.get(String(source.schema))!)!
          .get(String(source.table))!
          .add(String(row.name));
      }
      return state;
    },
    async close(): Promise<void> {
      const current = shared;
      shared = undefined;
      await current?.end();
    },
  });
}

function credentialsOf(base: PostgresDataSourceOptions) {
  return {
    connectionString: base.url,
    host: base.host,
    port: base.port,
    user: base.username,
    password: typeof base.password === "string" ? base.password : undefined,
    database: base.database,
    ssl: base.ssl as never,
    application_name: base.applicationName,
    ...(base.extra as object | undefined),
  };
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
