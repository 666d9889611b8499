import { DataSource } from "typeorm";
import { ConfigurationError } from "../errors";
import { dialectFor } from "../strategies/dialect";

/** What a foreign key does when the referenced row is deleted or its key updated. */
export type ReferentialAction = "NO ACTION" | "RESTRICT" | "CASCADE" | "SET NULL" | "SET DEFAULT";

/**
 * How the database fills a column by itself:
 * - `identity`: PostgreSQL `GENERATED ALWAYS|BY DEFAULT AS IDENTITY` (`always` tells which);
 * - `increment`: a PostgreSQL `serial` (a default from a sequence the column owns; its
 *   `default` is then `null`) or an SQLite `INTEGER PRIMARY KEY AUTOINCREMENT`;
 * - `rowid`: an SQLite `INTEGER PRIMARY KEY` without AUTOINCREMENT (an alias of the rowid);
 * - `computed`: a generated column, `GENERATED ALWAYS AS (expression) STORED|VIRTUAL`.
 */
export type ColumnGeneration =
  | { readonly kind: "identity"; readonly always: boolean }
  | { readonly kind: "increment" }
  | { readonly kind: "rowid" }
  | { readonly kind: "computed"; readonly expression: string; readonly stored: boolean };

/** One column, as the database stores it. */
export interface ColumnSnapshot {
  readonly name: string;
  /**
   * The type, normalized per driver: PostgreSQL's `format_type` with the long names shortened
   * (`varchar(40)`, `timestamptz`, `numeric(10,2)`, an enum by its name); SQLite's declared
   * type in lower case (`varchar(40)`, `integer`).
   */
  readonly type: string;
  readonly nullable: boolean;
  /** The default expression as the database prints it, or `null`. */
  readonly default: string | null;
  readonly generated: ColumnGeneration | null;
}

/** Whether a constraint is checked at the end of the transaction instead of per statement. */
export interface Deferrability {
  /** `DEFERRABLE` (either initially). */
  readonly deferrable: boolean;
  /** `DEFERRABLE INITIALLY DEFERRED`. */
  readonly initiallyDeferred: boolean;
}

/** The primary key of a table. */
export interface PrimaryKeySnapshot {
  /** The constraint name; `null` on SQLite unless the DDL names it. */
  readonly name: string | null;
  /** The key columns, in key order. */
  readonly columns: readonly string[];
}

/** A UNIQUE constraint (a unique index made with CREATE UNIQUE INDEX is an index). */
export interface UniqueSnapshot extends Deferrability {
  /** The constraint name; `null` on SQLite unless the DDL names it. */
  readonly name: string | null;
  /** The constrained columns, in order. */
  readonly columns: readonly string[];
}

/** An index that does not back a primary key or unique constraint. */
export interface IndexSnapshot {
  readonly name: string;
  /**
   * The keys in order: a column name, or the expression text of an expression key
   * (`lower(name::text)` on PostgreSQL), followed by ` DESC` / ` NULLS FIRST` when not default.
   */
  readonly columns: readonly string[];
  readonly unique: boolean;
  /** The predicate of a partial index (`NOT archived`), or `null`. */
  readonly where: string | null;
}

/** A CHECK constraint. */
export interface CheckSnapshot {
  /** The constraint name; `null` on SQLite unless the DDL names it. */
  readonly name: string | null;
  /** The checked expression, without its outer parentheses. */
  readonly expression: string;
}

/** A FOREIGN KEY constraint. */
export interface ForeignKeySnapshot extends Deferrability {
  /** The constraint name; `null` on SQLite unless the DDL names it. */
  readonly name: string | null;
  /** The referencing columns, in order. */
  readonly columns: readonly string[];
  /** The referenced table (qualified as `schema.table` when it is in another schema). */
  readonly referencedTable: string;
  /** The referenced columns, in the order that pairs them with `columns`. */
  readonly referencedColumns: readonly string[];
  readonly onDelete: ReferentialAction;
  readonly onUpdate: ReferentialAction;
}

/** One table: columns in their stored order, everything else sorted by name. */
export interface TableSnapshot {
  readonly name: string;
  readonly columns: readonly ColumnSnapshot[];
  readonly primaryKey: PrimaryKeySnapshot | null;
  readonly uniques: readonly UniqueSnapshot[];
  readonly indexes: readonly IndexSnapshot[];
  readonly checks: readonly CheckSnapshot[];
  readonly foreignKeys: readonly ForeignKeySnapshot[];
}

/** An enum type (PostgreSQL only) with its labels in their sort order. */
export interface EnumSnapshot {
  readonly name: string;
  readonly labels: readonly string[];
}

/**
 * A normalized, stable and JSON-serializable description of one database schema: tables
 * sorted by name, and enums. Two snapshots of the same schema are deeply equal.
 */
export interface SchemaSnapshot {
  readonly tables: readonly TableSnapshot[];
  readonly enums: readonly EnumSnapshot[];
}

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
  const dialect = dialectFor(dataSource);
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
