import type { DataSourceOptions } from "typeorm";
import {
  tenantStorageDialectFor,
  type TenantStorageDialect,
} from "../dialects/tenant-storage-dialect";
import {
  NameTooLongError,
  ReservedStorageError,
  TenantExistsError,
  UnownedStorageError,
} from "../errors";

/** What tenant storage must never be: the databases of the router's aliases. */
export interface StorageContext {
  /** The options of every alias database (primaries, replicas, test copies). */
  readonly reservedDatabases: readonly DataSourceOptions[];
}

/** An empty {@link StorageContext}, for strategies used outside a router. */
export const NO_RESERVED_DATABASES: StorageContext = Object.freeze({ reservedDatabases: [] });

/**
 * The mark `tenants.create` puts on the storage of `tenant` (a schema or database comment):
 * `typeorm-router tenant <id>`. `tenants.drop` drops only storage that carries it.
 */
export function tenantMark(tenant: string): string {
  return `typeorm-router tenant ${tenant}`;
}

// PostgreSQL keeps identifiers to NAMEDATALEN - 1 bytes and silently truncates longer ones.
const POSTGRES_IDENTIFIER_BYTES = 63;

/**
 * Why the PostgreSQL schema `schema` can never be a tenant's, or `undefined` when it can:
 * `public`, `information_schema` and every `pg_*` schema belong to the server.
 */
export function reservedSchemaReason(schema: string): string | undefined {
  if (schema === "public") return "is PostgreSQL's default schema";
  if (schema === "information_schema") return "is PostgreSQL's information schema";
  if (schema.startsWith("pg_")) return "is a PostgreSQL system schema (pg_*)";
  return undefined;
}

/**
 * Checks that the schema name `schema` of `tenant` fits PostgreSQL's identifier limit.
 *
 * @throws NameTooLongError when it is longer than 63 bytes, before anything runs.
 */
export function checkSchemaName(tenant: string, schema: string): void {
  const bytes = Buffer.byteLength(schema, "utf8");
  if (bytes <= POSTGRES_IDENTIFIER_BYTES) return;
  throw NameTooLongError.refused(
    tenant,
    "schema",
    schema,
    `${bytes} bytes`,
    `${POSTGRES_IDENTIFIER_BYTES} bytes (NAMEDATALEN - 1)`,
  );
}

/**
 * Checks that the name of the database `options` point at fits the server's limit, so that
 * the server never silently truncates it (and two tenants never share a database). A driver
 * whose tenant databases the router cannot own is not checked.
 *
 * @throws NameTooLongError before anything is opened.
 */
export function checkTenantDatabaseName(tenant: string, options: DataSourceOptions): void {
  let dialect: TenantStorageDialect;
  try {
    dialect = tenantStorageDialectFor(options);
  } catch {
    return;
  }
  const name = dialect.nameOf(options);
  const tooLong = dialect.nameTooLong(name);
  if (tooLong)
    throw NameTooLongError.refused(tenant, "database", name, tooLong.length, tooLong.limit);
}

/**
 * Checks, before anything runs, that the database `options` point at may be `tenant`'s:
 * its name fits the server's limit, and it is neither a server's own database nor an alias's.
 *
 * @throws NameTooLongError or ReservedStorageError.
 * @throws ConfigurationError for a driver whose tenant databases the router cannot own.
 */
export function checkTenantDatabase(
  operation: "create" | "drop",
  tenant: string,
  options: DataSourceOptions,
  context: StorageContext,
): void {
  const dialect = tenantStorageDialectFor(options);
  const name = dialect.nameOf(options);
  const tooLong = dialect.nameTooLong(name);
  if (tooLong)
    throw NameTooLongError.refused(tenant, "database", name, tooLong.length, tooLong.limit);
  const storage = `database "${name}"`;
  if (dialect.systemDatabases.includes(name)) {
    throw ReservedStorageError.refused(operation, tenant, storage, "is the server's own database");
  }
  const identity = dialect.identityOf(options);
  for (const reserved of context.reservedDatabases) {
    if (reserved.type !== options.type) continue;
    if (tenantStorageDialectFor(reserved).identityOf(reserved) === identity) {
      throw ReservedStorageError.refused(
        operation,
        tenant,
        storage,
        "is the database of a configured alias (databases option)",
      );
    }
  }
}

/**
 * Creates `tenant`'s database atomically and marks it as the router's.
 *
 * @throws NameTooLongError or ReservedStorageError before anything runs.
 * @throws TenantExistsError when the database exists (another create won the race).
 */
export async function createTenantDatabase(
  tenant: string,
  options: DataSourceOptions,
  context: StorageContext,
): Promise<void> {
  checkTenantDatabase("create", tenant, options, context);
  const dialect = tenantStorageDialectFor(options);
  const outcome = await dialect.createMarked(options, tenantMark(tenant));
  if (outcome === "exists") {
    throw TenantExistsError.storageExists(tenant, `database "${dialect.nameOf(options)}"`);
  }
}

/**
 * Drops `tenant`'s database, only if the router created it for that tenant (it carries
 * {@link tenantMark}). A database that is already gone is fine.
 *
 * @throws NameTooLongError or ReservedStorageError before anything runs.
 * @throws UnownedStorageError when the database lacks the mark; nothing is dropped.
 */
export async function dropTenantDatabase(
  tenant: string,
  options: DataSourceOptions,
  context: StorageContext,
): Promise<void> {
  await (
    await prepareTenantDatabaseDrop(tenant, options, context)
  )();
}

/**
 * Every check of {@link dropTenantDatabase} (limits, reserved names, the mark), now; resolves
 * the function that then drops the database (a no-op when it is already gone).
 *
 * @throws NameTooLongError, ReservedStorageError or UnownedStorageError: nothing to drop.
 */
export async function prepareTenantDatabaseDrop(
  tenant: string,
  options: DataSourceOptions,
  context: StorageContext,
): Promise<() => Promise<void>> {
  checkTenantDatabase("drop", tenant, options, context);
  const dialect = tenantStorageDialectFor(options);
  const mark = tenantMark(tenant);
  const ownership = await dialect.ownership(options, mark);
  if (ownership.state === "missing") return async () => undefined;
  if (ownership.state === "foreign") {
    throw UnownedStorageError.unmarked(
      tenant,
      `database "${dialect.nameOf(options)}"`,
      ownership.found,
      dialect.adoptHint(options, mark),
    );
  }
  return () => dialect.drop(options);
}
