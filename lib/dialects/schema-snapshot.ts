// The schema snapshot a dialect's introspection reads (published by typeorm-router/testing).

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
