import type { DataSource, EntityMetadata } from "typeorm";
import type { DatabaseTarget } from "../routing/database-target";
import type { DatabaseFilter, DatabaseSelection } from "../routing/database-selection";
import type { DataSourcePool } from "../pool/data-source-pool";
import { runBounded } from "../concurrency/run-bounded";
import { RoutingError, toRoutingError } from "../errors";
import { labelOf, type DatabaseLabel } from "./migration-report";

/** What one database is missing compared with the entities placed in it. */
export interface SchemaDrift {
  readonly database: DatabaseLabel;
  /** True when nothing is missing and the schema builder has nothing to change. */
  readonly clean: boolean;
  readonly missingTables: readonly string[];
  readonly missingColumns: readonly { readonly table: string; readonly column: string }[];
  readonly missingIndexes: readonly { readonly table: string; readonly index: string }[];
  /** The statements TypeORM's schema builder would run to match the entities. */
  readonly pendingSql: readonly string[];
  /** Set when the database could not be inspected. */
  readonly error?: RoutingError;
}

/** The result of `router.verifySchema()`: one entry per database. */
export interface SchemaReport {
  readonly results: readonly SchemaDrift[];
  /** True when every database is clean (and the tenants could be listed). */
  readonly clean: boolean;
  /**
   * Set when the tenants could not be listed (e.g. on a fresh install the table
   * `tenantsFromEntity` reads is not migrated yet): the aliases were still verified, and
   * their results say what is missing; no tenant was.
   */
  readonly tenantListError?: RoutingError;
}

/** What {@link verifySchemas} works with. */
export interface VerifySchemasProps {
  readonly selection: DatabaseSelection;
  readonly pool: DataSourcePool;
}

/**
 * Verifies every database `filter` selects: the aliases first, then the tenants. A tenant
 * list that cannot be read (a fresh install) is reported in the result, with the aliases'
 * drift, instead of failing the whole verification.
 *
 * @throws UnknownDatabaseError, InvalidTenantIdError or UnknownTenantError for a name the
 * filter gives that does not exist.
 */
export async function verifySchemas(
  props: VerifySchemasProps,
  filter: DatabaseFilter,
  concurrency: number,
): Promise<SchemaReport> {
  const { selection, pool } = props;
  const aliases = selection.aliasesOf(filter);
  let tenants: DatabaseTarget[] = [];
  let tenantListError: RoutingError | undefined;
  try {
    tenants = await selection.tenantsOf(filter);
  } catch (error) {
    // A tenant named in the filter that does not exist stays a caller's error.
    if (!(error instanceof RoutingError) || filter.tenants !== undefined) throw error;
    tenantListError = error;
  }
  const results = await runBounded([...aliases, ...tenants], concurrency, (target) =>
    pool
      .use(target, (dataSource) => verifyDatabase(target, dataSource))
      .catch((error: unknown) => failedDrift(target, error)),
  );
  return {
    results,
    clean: tenantListError === undefined && results.every((result) => result.clean),
    ...(tenantListError ? { tenantListError } : {}),
  };
}

/**
 * Compares the entities placed (and managed) in `target` with its live schema. This is what
 * catches a migration that was recorded as applied but never created its table.
 */
export async function verifyDatabase(
  target: DatabaseTarget,
  dataSource: DataSource,
): Promise<SchemaDrift> {
  const expected = dataSource.entityMetadatas.filter(isCreatedHere);
  const queryRunner = dataSource.createQueryRunner();
  try {
    const live = new Map(
      (await queryRunner.getTables(expected.map((m) => m.tablePath))).map((t) => [t.name, t]),
    );
    const liveTable = (metadata: EntityMetadata) =>
      live.get(metadata.tablePath) ?? live.get(metadata.tableName);
    const missingTables: string[] = [];
    const missingColumns: { table: string; column: string }[] = [];
    const missingIndexes: { table: string; index: string }[] = [];
    for (const metadata of expected) {
      const table = liveTable(metadata);
      if (!table) {
        missingTables.push(metadata.tableName);
        continue;
      }
      const columns = new Set(table.columns.map((column) => column.name));
      for (const column of metadata.columns) {
        if (!columns.has(column.databaseName))
          missingColumns.push({ table: metadata.tableName, column: column.databaseName });
      }
      const indexes = new Set(table.indices.map((index) => index.name));
      for (const index of metadata.indices) {
        if (index.name && !indexes.has(index.name))
          missingIndexes.push({ table: metadata.tableName, index: index.name });
      }
    }
    const pendingSql = (await dataSource.driver.createSchemaBuilder().log()).upQueries.map(
      (query) => query.query,
    );
    return {
      database: labelOf(target),
      clean:
        missingTables.length + missingColumns.length + missingIndexes.length + pendingSql.length ===
        0,
      missingTables,
      missingColumns,
      missingIndexes,
      pendingSql,
    };
  } catch (error) {
    return failedDrift(target, error);
  } finally {
    await queryRunner.release();
  }
}

/** The drift entry of a database that could not be inspected. */
export function failedDrift(target: DatabaseTarget, error: unknown): SchemaDrift {
  return {
    database: labelOf(target),
    clean: false,
    missingTables: [],
    missingColumns: [],
    missingIndexes: [],
    pendingSql: [],
    error: toRoutingError(error, {
      migration: "(verifying the schema)",
      database: target.description,
    }),
  };
}

// The router marks exactly the entities placed and managed here as synchronizable.
function isCreatedHere(metadata: EntityMetadata): boolean {
  return (
    metadata.synchronize && (metadata.tableType === "regular" || metadata.tableType === "junction")
  );
}
