import type { QueryRunner } from "typeorm";
import { ConfigurationError } from "../../errors";
import type {
  CheckSnapshot,
  ColumnGeneration,
  ColumnSnapshot,
  ForeignKeySnapshot,
  IndexSnapshot,
  ReferentialAction,
  SchemaSnapshot,
  TableSnapshot,
  UniqueSnapshot,
} from "../schema-snapshot";

// Straight from information_schema, which MySQL and MariaDB both keep. A UNIQUE constraint and
// a unique index are one thing there: every unique index is reported as a unique; the rest of
// STATISTICS (PRIMARY and unique ones left out) are the indexes.

const TABLES_SQL = `
SELECT TABLE_NAME AS name FROM information_schema.TABLES
WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'`;

const COLUMNS_SQL = `
SELECT TABLE_NAME AS table_name, COLUMN_NAME AS name, COLUMN_TYPE AS type,
  IS_NULLABLE AS nullable, COLUMN_DEFAULT AS default_expression, EXTRA AS extra,
  GENERATION_EXPRESSION AS expression
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = ?
ORDER BY TABLE_NAME, ORDINAL_POSITION`;

const KEYS_SQL = `
SELECT tc.TABLE_NAME AS table_name, tc.CONSTRAINT_NAME AS name, tc.CONSTRAINT_TYPE AS kind,
  k.COLUMN_NAME AS column_name, k.REFERENCED_TABLE_SCHEMA AS referenced_schema,
  k.REFERENCED_TABLE_NAME AS referenced_table, k.REFERENCED_COLUMN_NAME AS referenced_column,
  r.UPDATE_RULE AS on_update, r.DELETE_RULE AS on_delete
FROM information_schema.TABLE_CONSTRAINTS tc
JOIN information_schema.KEY_COLUMN_USAGE k
  ON k.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND k.TABLE_NAME = tc.TABLE_NAME
  AND k.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
LEFT JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND r.TABLE_NAME = tc.TABLE_NAME
  AND r.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
WHERE tc.TABLE_SCHEMA = ? AND tc.CONSTRAINT_TYPE IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')
ORDER BY tc.TABLE_NAME, tc.CONSTRAINT_NAME, k.ORDINAL_POSITION`;

// CHECK_CONSTRAINTS names no table on MySQL 8; TABLE_CONSTRAINTS does on both.
const CHECKS_SQL = `
SELECT tc.TABLE_NAME AS table_name, tc.CONSTRAINT_NAME AS name, c.CHECK_CLAUSE AS expression
FROM information_schema.TABLE_CONSTRAINTS tc
JOIN information_schema.CHECK_CONSTRAINTS c
  ON c.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND c.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
WHERE tc.TABLE_SCHEMA = ? AND tc.CONSTRAINT_TYPE = 'CHECK'`;

// COLLATION 'D' is a descending key part; SUB_PART a prefix length.
const INDEXES_SQL = `
SELECT TABLE_NAME AS table_name, INDEX_NAME AS name, NON_UNIQUE AS non_unique,
  COLUMN_NAME AS column_name, COLLATION AS collation, SUB_PART AS sub_part
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = ? AND INDEX_NAME <> 'PRIMARY'
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`;

interface ColumnRow {
  table_name: string;
  name: string;
  type: string;
  nullable: string;
  default_expression: string | null;
  extra: string;
  expression: string | null;
}

interface KeyRow {
  table_name: string;
  name: string;
  kind: "PRIMARY KEY" | "UNIQUE" | "FOREIGN KEY";
  column_name: string;
  referenced_schema: string | null;
  referenced_table: string | null;
  referenced_column: string | null;
  on_update: string | null;
  on_delete: string | null;
}

interface CheckRow {
  table_name: string;
  name: string;
  expression: string;
}

interface IndexRow {
  table_name: string;
  name: string;
  non_unique: number | string;
  column_name: string;
  collation: string | null;
  sub_part: number | string | null;
}

const NO_DEFERRAL = { deferrable: false, initiallyDeferred: false } as const;

/**
 * Reads `schema` (a MySQL database; the connection's current one when omitted) from
 * `information_schema` into a snapshot. MySQL has no enum types (an enum is a column type,
 * `enum('a','b')`) and no deferrable constraints.
 *
 * @throws ConfigurationError when there is no current database and none is given.
 */
export async function introspectMysql(
  queryRunner: QueryRunner,
  schema: string | undefined,
): Promise<SchemaSnapshot> {
  const database = schema ?? (await currentDatabase(queryRunner));
  const read = async <T>(sql: string) => (await queryRunner.query(sql, [database])) as T[];
  const tables = await read<{ name: string }>(TABLES_SQL);
  const columns = await read<ColumnRow>(COLUMNS_SQL);
  const keys = await read<KeyRow>(KEYS_SQL);
  const checks = await read<CheckRow>(CHECKS_SQL);
  const indexes = await read<IndexRow>(INDEXES_SQL);
  return {
    tables: tables.map(({ name }): TableSnapshot => {
      const keyGroups = groupBy(
        keys.filter((row) => row.table_name === name),
        (row) => `${row.kind}\u0000${row.name}`,
      );
      const primary = keyGroups.find((rows) => rows[0].kind === "PRIMARY KEY");
      return {
        name,
        columns: columns.filter((row) => row.table_name === name).map(columnOf),
        primaryKey: primary
          ? { name: primary[0].name, columns: primary.map((row) => row.column_name) }
          : null,
        uniques: keyGroups
          .filter((rows) => rows[0].kind === "UNIQUE")
          .map((rows): UniqueSnapshot => ({
            name: rows[0].name,
            columns: rows.map((row) => row.column_name),
            ...NO_DEFERRAL,
          })),
        indexes: groupBy(
          indexes.filter((row) => row.table_name === name && Number(row.non_unique) === 1),
          (row) => row.name,
        ).map((rows): IndexSnapshot => ({
          name: rows[0].name,
          columns: rows.map(indexKeyOf),
          unique: false,
          where: null,
        })),
        checks: checks
          .filter((row) => row.table_name === name)
          .map((row): CheckSnapshot => ({ name: row.name, expression: row.expression })),
        foreignKeys: keyGroups
          .filter((rows) => rows[0].kind === "FOREIGN KEY")
          .map((rows): ForeignKeySnapshot => ({
            name: rows[0].name,
            columns: rows.map((row) => row.column_name),
            referencedTable:
              rows[0].referenced_schema === database || rows[0].referenced_schema === null
                ? String(rows[0].referenced_table)
                : `${rows[0].referenced_schema}.${rows[0].referenced_table}`,
            referencedColumns: rows.map((row) => String(row.referenced_column)),
            onDelete: actionOf(rows[0].on_delete),
            onUpdate: actionOf(rows[0].on_update),
            ...NO_DEFERRAL,
          })),
      };
    }),
    enums: [],
  };
}

async function currentDatabase(queryRunner: QueryRunner): Promise<string> {
  const [row] = (await queryRunner.query("SELECT DATABASE() AS name")) as {
    name: string | null;
  }[];
  if (row.name) return row.name;
  throw ConfigurationError.invalid(
    "snapshotSchema(dataSource)",
    "the connection has no current database (its options name none)",
    "Pass { schema: databaseName } to snapshotSchema, or set the DataSource's `database` option.",
  );
}

function columnOf(row: ColumnRow): ColumnSnapshot {
  const extra = row.extra.toLowerCase();
  let generated: ColumnGeneration | null = null;
  if (extra.includes("auto_increment")) generated = { kind: "increment" };
  // MySQL 8 marks an expression default DEFAULT_GENERATED: that is a default, not a computed column.
  else if (/(stored|virtual) generated|^persistent$|^virtual$/.test(extra)) {
    generated = {
      kind: "computed",
      expression: row.expression ?? "",
      stored: extra.includes("stored") || extra === "persistent",
    };
  }
  return {
    name: row.name,
    type: row.type.toLowerCase(),
    nullable: row.nullable === "YES",
    // MariaDB prints a NULL default as the word NULL (a string literal is quoted: 'NULL').
    default:
      generated?.kind === "computed" ||
      row.default_expression === null ||
      row.default_expression === "NULL"
        ? null
        : row.default_expression,
    generated,
  };
}

function indexKeyOf(row: IndexRow): string {
  const prefix = row.sub_part === null ? "" : `(${Number(row.sub_part)})`;
  return `${row.column_name}${prefix}${row.collation === "D" ? " DESC" : ""}`;
}

function actionOf(rule: string | null): ReferentialAction {
  const action = (rule ?? "NO ACTION").toUpperCase();
  return (
    ["NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"].includes(action)
      ? action
      : "NO ACTION"
  ) as ReferentialAction;
}

// Groups in first-seen order.
function groupBy<T>(rows: readonly T[], key: (row: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return [...groups.values()];
}
