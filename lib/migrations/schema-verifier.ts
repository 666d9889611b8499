import type { DataSource, EntityMetadata } from "typeorm";
import type { DatabaseTarget } from "../routing/database-target";
import { toRoutingError, type RoutingError } from "../errors";
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
  /** True when every database is clean. */
  readonly clean: boolean;
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
