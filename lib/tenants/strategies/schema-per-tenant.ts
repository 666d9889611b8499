import type { DataSourceOptions, QueryRunner } from "typeorm";
import { sleep } from "../../concurrency/sleep";
import {
  ConfigurationError,
  ReservedStorageError,
  TenantExistsError,
  UnownedStorageError,
} from "../../errors";
import { checkSchemaName, reservedSchemaReason, tenantMark } from "../owned-storage";
import { SharedPostgresPool } from "./shared-postgres-pool";
import {
  SCHEMA_PLACEHOLDER,
  refuseUnscoped,
  scopeToSchema,
} from "../../dialects/postgres/schema-scope";
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

// The length is checked apart (checkSchemaName), in bytes, with an error of its own.
const SCHEMA_NAME = /^[a-z_][a-z0-9_$-]*$/;
// duplicate_schema, and the unique index of pg_namespace when two creates race.
const EXISTS_CODES = new Set(["42P06", "23505"]);
// deadlock_detected, lock_not_available: DROP SCHEMA … CASCADE takes every table's lock, and
// in-flight transactions on the tenant hold some of them.
const RETRY_DROP_CODES = new Set(["40P01", "55P03"]);
const DROP_ATTEMPTS = 8;
const DROP_LOCK_TIMEOUT = "2s";
// readMigrationState reads the migrations tables with UNION ALLs of this many tables each:
// PostgreSQL plans a UNION ALL in time that grows faster than its length (500 tables plan in
// about 28 ms, 50 in about 1 ms), and one over 10,000 tables fails with "stack depth limit
// exceeded".
const UNION_TABLES = 50;
// ...and sends this many of them per round trip (one simple query of several statements):
// 500 tables, whose locks the round trip's implicit transaction holds until it ends.
const UNIONS_PER_QUERY = 10;
// ...on this many connections at once (within maxConnections): 10,000 schemas' state is read
// in about 0.8 of the time one connection takes, 1,000 schemas' in about 0.9.
const STATE_READERS = 2;

/**
 * Puts every tenant in a schema of one PostgreSQL database.
 *
 * - Every tenant shares one DataSource and one entity metadata set, built with a placeholder
 *   schema; each statement names its tenant's schema in place of it, so ORM queries can
 *   never reach another tenant's tables. Opening a tenant costs no metadata and no query.
 * - Raw SQL (repository and manager `query`, `router.query({ tenant })`, migrations,
 *   transactions) runs after `SET LOCAL search_path TO "<schema>"` (no `public` after it),
 *   which ends with the transaction: nothing leaks to the next borrower of the connection,
 *   with or without PgBouncer in transaction mode.
 * - One connection pool capped at `maxConnections` serves every tenant.
 * - Migration state of every tenant is read with one query.
 * - `tenants.create` creates the schema and marks it in one transaction
 *   (`COMMENT ON SCHEMA … IS 'typeorm-router tenant <id>'`); `tenants.drop` drops only a schema
 *   that carries the mark, and never `public`, `information_schema`, a `pg_*` schema or the
 *   base's own schema. Names longer than 63 bytes are refused before anything runs.
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
    checkSchemaName(tenant, schema);
    return schema;
  };
  // The schema, refused when the router must never create or drop it.
  const ownSchemaOf = (tenant: string, operation: "create" | "drop"): string => {
    const schema = schemaOf(tenant);
    const reason =
      reservedSchemaReason(schema) ??
      (schema === options.base.schema ? "is the base database's own schema" : undefined);
    if (reason) throw ReservedStorageError.refused(operation, tenant, `schema "${schema}"`, reason);
    return schema;
  };
  let shared: SharedPostgresPool | undefined;
  const pool = (): SharedPostgresPool => {
    shared ??= new SharedPostgresPool({ ...credentialsOf(options.base), max: maxConnections });
    return shared;
  };
  const run = async (sql: string, parameters?: unknown[]): Promise<Record<string, unknown>[]> =>
    (await pool().pool.query(sql, parameters)).rows as Record<string, unknown>[];

  const optionsWith = (schema: string): DataSourceOptions => ({
    ...options.base,
    schema,
    driver: pool().driver,
    // Never pg-native: TypeORM would swap the shared pool's `pg` for `pg.native`, whose
    // pools are per DataSource (PostgresDriver.loadDependencies), and it would try to
    // require("pg-native") on every open, a failed module lookup each time.
    nativeDriver: false,
    poolSize: maxConnections,
  });

  // Every check of a drop now (reserved names, the mark); the drop itself when called.
  const prepareDrop = async (tenant: string): Promise<() => Promise<void>> => {
    const schema = ownSchemaOf(tenant, "drop");
    const mark = tenantMark(tenant);
    const [row] = await run(
      "SELECT obj_description(oid, 'pg_namespace') AS mark FROM pg_namespace WHERE nspname = $1",
      [schema],
    );
    if (!row) return async () => undefined;
    if (row.mark !== mark) {
      throw UnownedStorageError.unmarked(
        tenant,
        `schema "${schema}"`,
        typeof row.mark === "string" ? row.mark : undefined,
        `COMMENT ON SCHEMA ${quote(schema)} IS ${literal(mark)};`,
      );
    }
    return () => dropSchema(pool(), schema);
  };

  return Object.freeze({
    name: "schema-per-tenant",
    scopeDescription: "a schema reached through SET LOCAL search_path",
    optionsFor: (tenant: string): DataSourceOptions => optionsWith(schemaOf(tenant)),
    shared: Object.freeze({
      get options() {
        return optionsWith(SCHEMA_PLACEHOLDER);
      },
      storageOf: schemaOf,
      scope: (queryRunner: QueryRunner, tenant: string) =>
        scopeToSchema(queryRunner, schemaOf(tenant)),
      unscoped: refuseUnscoped,
    }),
    // Runners are scoped by `shared.scope` already; this only says that raw SQL on a tenant
    // needs a transaction (SET LOCAL), which refuses transaction = false migrations.
    async scopeTransaction(): Promise<void> {},
    async createStorage(tenant: string): Promise<void> {
      const schema = ownSchemaOf(tenant, "create");
      try {
        // One simple query: one implicit transaction, so the schema never exists unmarked.
        await run(
          `CREATE SCHEMA ${quote(schema)}; COMMENT ON SCHEMA ${quote(schema)} IS ${literal(tenantMark(tenant))}`,
        );
      } catch (error) {
        if (EXISTS_CODES.has(codeOf(error))) {
          throw TenantExistsError.storageExists(tenant, `schema "${schema}"`, error);
        }
        throw error;
      }
    },
    async dropStorage(tenant: string): Promise<void> {
      await (
        await prepareDrop(tenant)
      )();
    },
    prepareDropStorage: (tenant: string) => prepareDrop(tenant),
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
      // ...and UNION ALLs read every one of them (see UNION_TABLES, UNIONS_PER_QUERY).
      const unions: string[] = [];
      for (let start = 0; start < present.length; start += UNION_TABLES) {
        unions.push(
          present
            .slice(start, start + UNION_TABLES)
            .map(
              (row, index) =>
                `SELECT ${start + index} AS i, name FROM ${quote(String(row.schema))}.${quote(String(row.table))}`,
            )
            .join(" UNION ALL "),
        );
      }
      const batches: string[] = [];
      for (let start = 0; start < unions.length; start += UNIONS_PER_QUERY) {
        batches.push(unions.slice(start, start + UNIONS_PER_QUERY).join(";\n"));
      }
      const readBatches = async () => {
        for (let batch = batches.shift(); batch !== undefined; batch = batches.shift()) {
          // Several statements in one simple query: pg resolves one result per statement.
          const results: unknown = await pool().pool.query(batch);
          const list = (Array.isArray(results) ? results : [results]) as {
            rows: Record<string, unknown>[];
          }[];
          for (const row of list.flatMap((result) => result.rows)) {
            const source = present[Number(row.i)];
            state
              .get(bySchema.get(String(source.schema))!)!
              .get(String(source.table))!
              .add(String(row.name));
          }
        }
      };
      const readers = Math.min(STATE_READERS, maxConnections, batches.length);
      await Promise.all(Array.from({ length: readers }, readBatches));
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

// DROP SCHEMA … CASCADE under a short lock_timeout, retried: waiting behind (or deadlocking
// with) in-flight transactions on the tenant's tables ends with a retry, not a raw 40P01.
async function dropSchema(shared: SharedPostgresPool, schema: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const client = await shared.pool.connect();
    try {
      await client.query(
        `BEGIN; SET LOCAL lock_timeout = '${DROP_LOCK_TIMEOUT}'; DROP SCHEMA IF EXISTS ${quote(schema)} CASCADE; COMMIT`,
      );
      return;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      if (!RETRY_DROP_CODES.has(codeOf(error)) || attempt >= DROP_ATTEMPTS) throw error;
    } finally {
      client.release();
    }
    await sleep(Math.min(100 * 2 ** attempt, 2000));
  }
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : "";
}

// A SQL string literal; COMMENT takes no parameters.
function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
