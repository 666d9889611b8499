import type { QueryRunner } from "typeorm";
import type { PostgresDataSourceOptions } from "./postgres-server";
import { ConfigurationError } from "../../errors";
import type {
  ColumnGeneration,
  ColumnSnapshot,
  ReferentialAction,
  SchemaSnapshot,
  TableSnapshot,
} from "../schema-snapshot";
import { unwrapParentheses } from "../sql-tokens";

// Straight from pg_catalog: TypeORM's getTables() drops expression indexes, loses index key
// order and leaves unique deferrability empty.

const TABLES_SQL = `
SELECT c.relname AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')`;

const COLUMNS_SQL = `
SELECT c.relname AS table_name, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
  NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS default_expression,
  a.attidentity AS identity, a.attgenerated AS generated,
  EXISTS (
    SELECT 1 FROM pg_depend dep JOIN pg_class s ON s.oid = dep.objid AND s.relkind = 'S'
    WHERE dep.refobjid = c.oid AND dep.refobjsubid = a.attnum AND dep.deptype = 'a'
  ) AS owns_sequence
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum`;

const CONSTRAINTS_SQL = `
SELECT c.relname AS table_name, con.conname AS name, con.contype AS kind,
  ARRAY(
    SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord
  ) AS columns,
  fc.relname AS referenced_table, fn.nspname AS referenced_schema,
  ARRAY(
    SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord
  ) AS referenced_columns,
  con.confdeltype AS on_delete, con.confupdtype AS on_update,
  con.condeferrable AS deferrable, con.condeferred AS initially_deferred,
  pg_get_expr(con.conbin, con.conrelid, true) AS expression
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE n.nspname = $1 AND con.contype IN ('p', 'u', 'f', 'c')`;

// Indexes that back a primary key, unique or exclusion constraint are reported with it.
// indoption bit 1 is DESC, bit 2 NULLS FIRST (the default for DESC).
const INDEXES_SQL = `
SELECT c.relname AS table_name, ic.relname AS name, i.indisunique AS is_unique,
  ARRAY(
    SELECT CASE WHEN i.indkey[k - 1] = 0 THEN pg_get_indexdef(i.indexrelid, k, true)
      ELSE (SELECT a.attname::text FROM pg_attribute a
            WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1]) END
      || CASE WHEN i.indoption[k - 1] & 1 = 1 THEN ' DESC' ELSE '' END
      || CASE i.indoption[k - 1] & 3 WHEN 2 THEN ' NULLS FIRST' WHEN 1 THEN ' NULLS LAST'
         ELSE '' END
    FROM generate_series(1, i.indnkeyatts) k ORDER BY k
  ) AS columns,
  pg_get_expr(i.indpred, i.indrelid, true) AS predicate
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND NOT EXISTS (
  SELECT 1 FROM pg_constraint con
  WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
)`;

const ENUMS_SQL = `
SELECT t.typname AS name,
  ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
    AS labels
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = $1 AND t.typtype = 'e'`;

const ACTIONS: Readonly<Record<string, ReferentialAction>> = {
  a: "NO ACTION",
  r: "RESTRICT",
  c: "CASCADE",
  n: "SET NULL",
  d: "SET DEFAULT",
};

// format_type's long names, shortened to the names people write.
const TYPE_ALIASES: readonly [RegExp, string][] = [
  [/^character varying/, "varchar"],
  [/^character/, "char"],
  [/^bit varying/, "varbit"],
  [/^timestamp(\(\d+\))? without time zone/, "timestamp$1"],
  [/^timestamp(\(\d+\))? with time zone/, "timestamptz$1"],
  [/^time(\(\d+\))? without time zone/, "time$1"],
  [/^time(\(\d+\))? with time zone/, "timetz$1"],
];

interface ColumnRow {
  table_name: string;
  name: string;
  type: string;
  nullable: boolean;
  default_expression: string | null;
  identity: string;
  generated: string;
  owns_sequence: boolean;
}

interface ConstraintRow {
  table_name: string;
  name: string;
  kind: "p" | "u" | "f" | "c";
  columns: string[];
  referenced_table: string | null;
  referenced_schema: string | null;
  referenced_columns: string[];
  on_delete: string;
  on_update: string;
  deferrable: boolean;
  initially_deferred: boolean;
  expression: string | null;
}

interface IndexRow {
  table_name: string;
  name: string;
  is_unique: boolean;
  columns: string[];
  predicate: string | null;
}

/**
 * Reads schema `schema` of a PostgreSQL database (the DataSource's `schema` option, else the
 * current schema, when omitted) from pg_catalog.
 *
 * @throws ConfigurationError when the schema does not exist.
 */
export async function introspectPostgres(
  queryRunner: QueryRunner,
  schema: string | undefined,
): Promise<SchemaSnapshot> {
  const name = schema ?? (await defaultSchema(queryRunner));
  const query = <T>(sql: string) => queryRunner.query(sql, [name]) as Promise<T[]>;
  const [exists] = await query<{ found: number }>(
    "SELECT 1 AS found FROM pg_namespace WHERE nspname = $1",
  );
  if (!exists) {
    const [{ database }] = (await queryRunner.query("SELECT current_database() AS database")) as {
      database: string;
    }[];
    throw ConfigurationError.invalid(
      `snapshotSchema({ schema: "${name}" })`,
      `schema "${name}" does not exist in PostgreSQL database "${database}"`,
      "Pass the name of an existing schema, or create it before snapshotting.",
    );
  }
  // One after the other: a query runner holds one connection.
  const tables = await query<{ name: string }>(TABLES_SQL);
  const columns = await query<ColumnRow>(COLUMNS_SQL);
  const constraints = await query<ConstraintRow>(CONSTRAINTS_SQL);
  const indexes = await query<IndexRow>(INDEXES_SQL);
  const enums = await query<{ name: string; labels: string[] }>(ENUMS_SQL);
  const of = <T extends { table_name: string }>(rows: T[], table: string) =>
    rows.filter((row) => row.table_name === table);
  return {
    tables: tables.map(({ name: table }): TableSnapshot => ({
      name: table,
      columns: of(columns, table).map((row) => columnOf(row, name)),
      primaryKey:
        of(constraints, table)
          .filter((row) => row.kind === "p")
          .map((row) => ({ name: row.name, columns: row.columns }))[0] ?? null,
      uniques: of(constraints, table)
        .filter((row) => row.kind === "u")
        .map((row) => ({ name: row.name, columns: row.columns, ...deferrabilityOf(row) })),
      indexes: of(indexes, table).map((row) => ({
        name: row.name,
        columns: row.columns,
        unique: row.is_unique,
        where: row.predicate,
      })),
      checks: of(constraints, table)
        .filter((row) => row.kind === "c")
        .map((row) => ({ name: row.name, expression: unwrapParentheses(row.expression ?? "") })),
      foreignKeys: of(constraints, table)
        .filter((row) => row.kind === "f")
        .map((row) => ({
          name: row.name,
          columns: row.columns,
          referencedTable:
            row.referenced_schema === name
              ? String(row.referenced_table)
              : `${row.referenced_schema}.${row.referenced_table}`,
          referencedColumns: row.referenced_columns,
          onDelete: ACTIONS[row.on_delete],
          onUpdate: ACTIONS[row.on_update],
          ...deferrabilityOf(row),
        })),
    })),
    enums: enums.map((row) => ({ name: row.name, labels: row.labels })),
  };
}

async function defaultSchema(queryRunner: QueryRunner): Promise<string> {
  const configured = (queryRunner.connection.options as PostgresDataSourceOptions).schema;
  if (configured) return configured;
  const [row] = (await queryRunner.query("SELECT current_schema() AS schema")) as {
    schema: string | null;
  }[];
  if (row.schema) return row.schema;
  throw ConfigurationError.invalid(
    "snapshotSchema(dataSource)",
    "the connection has no current schema (its search_path names no existing schema)",
    "Pass { schema } to snapshotSchema, or set the DataSource's `schema` option.",
  );
}

function columnOf(row: ColumnRow, schema: string): ColumnSnapshot {
  let generated: ColumnGeneration | null = null;
  let defaultExpression = row.default_expression;
  if (row.identity) {
    generated = { kind: "identity", always: row.identity === "a" };
  } else if (row.generated) {
    generated = {
      kind: "computed",
      expression: unwrapParentheses(defaultExpression ?? ""),
      stored: row.generated === "s",
    };
    defaultExpression = null;
  } else if (row.owns_sequence && defaultExpression?.startsWith("nextval(")) {
    generated = { kind: "increment" };
    defaultExpression = null;
  }
  return {
    name: row.name,
    type: normalizedType(row.type, schema),
    nullable: row.nullable,
    default: defaultExpression,
    generated,
  };
}

function normalizedType(type: string, schema: string): string {
  // format_type qualifies types of schemas outside the search_path (tenant schemas).
  const unqualified = [`${schema}.`, `"${schema.replace(/"/g, '""')}".`].reduce(
    (text, prefix) => (text.startsWith(prefix) ? text.slice(prefix.length) : text),
    type,
  );
  return TYPE_ALIASES.reduce(
    (text, [pattern, replacement]) => text.replace(pattern, replacement),
    unqualified,
  );
}

function deferrabilityOf(row: ConstraintRow) {
  return { deferrable: row.deferrable, initiallyDeferred: row.initially_deferred };
}
