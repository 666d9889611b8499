import type { QueryRunner } from "typeorm";
import { ConfigurationError } from "../../errors";
import type {
  ColumnGeneration,
  ForeignKeySnapshot,
  IndexSnapshot,
  ReferentialAction,
  SchemaSnapshot,
  TableSnapshot,
  UniqueSnapshot,
} from "../schema-snapshot";
import {
  normalizeSqliteExpression,
  parseCreateIndex,
  parseCreateTable,
  type ParsedTable,
} from "./sqlite-ddl";

// The pragmas give columns, key order, index keys and FK actions; names, CHECKs, deferrability,
// AUTOINCREMENT and expressions exist only in the CREATE statements (see sqlite-ddl.ts).

interface ColumnRow {
  cid: number;
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
  // 0 normal, 1 hidden (virtual tables), 2 generated VIRTUAL, 3 generated STORED
  hidden: number;
}

interface IndexListRow {
  name: string;
  unique: number;
  origin: "c" | "u" | "pk";
  partial: number;
}

interface IndexKeyRow {
  seqno: number;
  cid: number;
  name: string | null;
  desc: number;
  key: number;
}

interface ForeignKeyRow {
  id: number;
  seq: number;
  table: string;
  from: string;
  to: string | null;
  on_update: ReferentialAction;
  on_delete: ReferentialAction;
}

/**
 * Reads attached database `schema` (`main` when omitted) of an SQLite database from
 * sqlite_master and the table, index and foreign-key pragmas.
 *
 * @throws ConfigurationError when no database is attached under that name.
 */
export async function introspectSqlite(
  queryRunner: QueryRunner,
  schema: string | undefined,
): Promise<SchemaSnapshot> {
  const database = schema ?? "main";
  const query = <T>(sql: string, parameters: unknown[] = []) =>
    queryRunner.query(sql, parameters) as Promise<T[]>;
  const attached = await query<{ name: string }>("SELECT name FROM pragma_database_list");
  if (!attached.some((row) => row.name === database)) {
    throw ConfigurationError.invalid(
      `snapshotSchema({ schema: "${database}" })`,
      `no SQLite database is attached as "${database}" (attached: ` +
        `${attached.map((row) => `"${row.name}"`).join(", ")})`,
      'Pass "main" (the default) or the name given to ATTACH DATABASE.',
    );
  }
  const objects = await query<{ type: string; name: string; sql: string | null }>(
    `SELECT type, name, sql FROM "${database.replace(/"/g, '""')}".sqlite_master ` +
      `WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'`,
  );
  const sqlOf = (type: string, name: string) =>
    objects.find((row) => row.type === type && row.name === name)?.sql ?? "";
  const columnsOf = (table: string) =>
    query<ColumnRow>("SELECT * FROM pragma_table_xinfo(?, ?) ORDER BY cid", [table, database]);
  const primaryKeyOf = async (table: string) =>
    (await columnsOf(table))
      .filter((row) => row.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((row) => row.name);

  const tables: TableSnapshot[] = [];
  for (const { name } of objects.filter((row) => row.type === "table")) {
    const parsed = parseCreateTable(sqlOf("table", name));
    const columns = await columnsOf(name);
    const indexList = await query<IndexListRow>("SELECT * FROM pragma_index_list(?, ?)", [
      name,
      database,
    ]);
    const keysOf = async (index: string) =>
      (
        await query<IndexKeyRow>("SELECT * FROM pragma_index_xinfo(?, ?) ORDER BY seqno", [
          index,
          database,
        ])
      ).filter((row) => row.key === 1);
    const primaryKey = columns.filter((row) => row.pk > 0).sort((a, b) => a.pk - b.pk);
    // INTEGER PRIMARY KEY aliases the rowid unless the key needs an index of its own.
    const rowid =
      primaryKey.length === 1 &&
      primaryKey[0].type.toUpperCase() === "INTEGER" &&
      !indexList.some((row) => row.origin === "pk")
        ? primaryKey[0].name
        : undefined;

    const uniques: UniqueSnapshot[] = [];
    const indexes: IndexSnapshot[] = [];
    for (const index of indexList) {
      const keys = await keysOf(index.name);
      if (index.origin === "u") {
        const keyColumns = keys.map((row) => String(row.name));
        uniques.push({
          name: nameOfKey(parsed.uniques, keyColumns),
          columns: keyColumns,
          deferrable: false, // SQLite cannot defer UNIQUE constraints.
          initiallyDeferred: false,
        });
      } else if (index.origin === "c") {
        const written = parseCreateIndex(sqlOf("index", index.name));
        indexes.push({
          name: index.name,
          columns: keys.map(
            (row, position) =>
              (row.cid === -2 ? (written.keys[position] ?? "") : String(row.name ?? "rowid")) +
              (row.desc ? " DESC" : ""),
          ),
          unique: index.unique === 1,
          where: index.partial ? written.where : null,
        });
      }
    }

    const foreignKeys: ForeignKeySnapshot[] = [];
    const references = await query<ForeignKeyRow>(
      "SELECT * FROM pragma_foreign_key_list(?, ?) ORDER BY id, seq",
      [name, database],
    );
    for (const id of new Set(references.map((row) => row.id))) {
      const rows = references.filter((row) => row.id === id);
      const fromColumns = rows.map((row) => row.from);
      const written = parsed.foreignKeys.find(
        (fk) =>
          sameList(fk.columns, fromColumns) &&
          fk.referencedTable.toLowerCase() === rows[0].table.toLowerCase(),
      );
      foreignKeys.push({
        name: written?.name ?? null,
        columns: fromColumns,
        referencedTable: rows[0].table,
        referencedColumns: rows.every((row) => row.to !== null)
          ? rows.map((row) => String(row.to))
          : await primaryKeyOf(rows[0].table),
        onDelete: rows[0].on_delete,
        onUpdate: rows[0].on_update,
        deferrable: written?.deferrable ?? false,
        initiallyDeferred: written?.initiallyDeferred ?? false,
      });
    }

    tables.push({
      name,
      columns: columns
        .filter((row) => row.hidden !== 1)
        .map((row) => ({
          name: row.name,
          type: normalizeSqliteExpression(row.type).toLowerCase().replace(/,\s+/g, ","),
          nullable: row.notnull === 0 && row.name !== rowid,
          default: row.dflt_value === null ? null : normalizeSqliteExpression(row.dflt_value),
          generated: generationOf(row, parsed, rowid),
        })),
      primaryKey: primaryKey.length
        ? {
            name: parsed.primaryKey?.name ?? null,
            columns: primaryKey.map((row) => row.name),
          }
        : null,
      uniques,
      indexes,
      checks: parsed.checks,
      foreignKeys,
    });
  }
  return { tables, enums: [] };
}

function generationOf(
  row: ColumnRow,
  parsed: ParsedTable,
  rowid: string | undefined,
): ColumnGeneration | null {
  if (row.hidden === 2 || row.hidden === 3) {
    return {
      kind: "computed",
      expression: parsed.generated[row.name] ?? "",
      stored: row.hidden === 3,
    };
  }
  if (row.name !== rowid) return null;
  return parsed.autoincrement.includes(row.name) ? { kind: "increment" } : { kind: "rowid" };
}

// The name the CREATE TABLE gave the UNIQUE constraint on `columns`, if any.
function nameOfKey(
  written: readonly { name: string | null; columns: readonly string[] }[],
  columns: readonly string[],
): string | null {
  return written.find((key) => sameList(key.columns, columns))?.name ?? null;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  // SQLite identifiers are case-insensitive: UNIQUE (SKU) constrains column "sku".
  return (
    a.length === b.length && a.every((item, index) => item.toLowerCase() === b[index].toLowerCase())
  );
}
