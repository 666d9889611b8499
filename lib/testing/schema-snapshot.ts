import { DataSource } from "typeorm";
import { ConfigurationError } from "../errors";
import { testingDialectFor } from "../dialects/testing-dialects";
import type { SchemaSnapshot, TableSnapshot } from "../dialects/schema-snapshot";

export type {
  ReferentialAction,
  ColumnGeneration,
  ColumnSnapshot,
  Deferrability,
  PrimaryKeySnapshot,
  UniqueSnapshot,
  IndexSnapshot,
  CheckSnapshot,
  ForeignKeySnapshot,
  TableSnapshot,
  EnumSnapshot,
  SchemaSnapshot,
} from "../dialects/schema-snapshot";

/** Options of {@link snapshotSchema}. */
export interface SchemaSnapshotOptions {
  /**
   * The schema to read: a PostgreSQL schema (default: the DataSource's `schema` option, else
   * the connection's current schema), or an attached SQLite database (default: `main`).
   */
  readonly schema?: string;
  /**
   * Tables to leave out of the snapshot: exact names, or patterns tested against the name
   * (for example the migrations table). Every table is included by default.
   */
  readonly exclude?: readonly (string | RegExp)[];
}

/**
 * Reads the schema of a database into a normalized {@link SchemaSnapshot}: tables, columns,
 * primary keys, uniques, indexes (expression and partial ones included, keys in order),
 * checks, foreign keys and enums, with deferrability. It reads the catalog directly
 * (`pg_catalog` on PostgreSQL; `sqlite_master` and pragmas on SQLite) because TypeORM's own
 * introspection drops expression indexes and deferrability.
 *
 * @example
 * const snapshot = await snapshotSchema(dataSource, { exclude: ["migrations"] });
 * @throws ConfigurationError when the DataSource is not initialized, its driver is neither
 *   postgres nor better-sqlite3, or `schema` does not exist.
 */
export async function snapshotSchema(
  dataSource: DataSource,
  options: SchemaSnapshotOptions = {},
): Promise<SchemaSnapshot> {
  if (!dataSource.isInitialized) {
    throw ConfigurationError.invalid(
      "snapshotSchema(dataSource)",
      "the DataSource is not initialized, so there is no connection to read the schema from",
      "Call `await dataSource.initialize()` before snapshotting it.",
    );
  }
  const dialect = testingDialectFor(dataSource);
  const queryRunner = dataSource.createQueryRunner();
  let read: SchemaSnapshot;
  try {
    read = await dialect.introspect(queryRunner, options.schema);
  } finally {
    await queryRunner.release();
  }
  const excluded = (name: string) =>
    (options.exclude ?? []).some((pattern) =>
      typeof pattern === "string" ? pattern === name : pattern.test(name),
    );
  return {
    tables: sortedBy(
      read.tables.filter((table) => !excluded(table.name)).map(sortedTable),
      (table) => table.name,
    ),
    enums: sortedBy(read.enums, (item) => item.name),
  };
}

/**
 * Whether `value` has the shape of a {@link SchemaSnapshot} (as returned by
 * {@link snapshotSchema}, or read back from its JSON).
 */
export function isSchemaSnapshot(value: unknown): value is SchemaSnapshot {
  const candidate = value as Partial<SchemaSnapshot> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    Array.isArray(candidate.tables) &&
    Array.isArray(candidate.enums)
  );
}

function sortedTable(table: TableSnapshot): TableSnapshot {
  const byName = (item: { readonly name: string | null }) => item.name ?? "";
  return {
    name: table.name,
    columns: table.columns,
    primaryKey: table.primaryKey,
    uniques: sortedBy(table.uniques, byName),
    indexes: sortedBy(table.indexes, byName),
    checks: sortedBy(table.checks, byName),
    foreignKeys: sortedBy(table.foreignKeys, byName),
  };
}

// Sorted by key, then by content, with a locale-independent order so snapshots are stable.
function sortedBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const keyed = items.map((item) => ({ item, key: key(item), content: JSON.stringify(item) }));
  keyed.sort((a, b) => compare(a.key, b.key) || compare(a.content, b.content));
  return keyed.map(({ item }) => item);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
