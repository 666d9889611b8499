import type {
  CheckSnapshot,
  ColumnGeneration,
  ColumnSnapshot,
  Deferrability,
  EnumSnapshot,
  ForeignKeySnapshot,
  IndexSnapshot,
  PrimaryKeySnapshot,
  SchemaSnapshot,
  TableSnapshot,
  UniqueSnapshot,
} from "./schema-snapshot";

/** Differences {@link diffSchemas} should not report. Every flag is off by default. */
export interface SchemaDiffIgnore {
  /**
   * Match primary keys, uniques, foreign keys, checks and indexes by content instead of by
   * name, and do not report name differences (hand-written `item_sku_key` against TypeORM's
   * `UQ_…`). Implies `indexNames`.
   */
  readonly constraintNames?: boolean;
  /** Treat `DEFERRABLE [INITIALLY DEFERRED]` foreign keys as equal to plain ones. */
  readonly fkDeferrability?: boolean;
  /** Treat `DEFERRABLE [INITIALLY DEFERRED]` unique constraints as equal to plain ones. */
  readonly uniqueDeferrability?: boolean;
  /** Compare each table's columns as a set, not in their stored order. */
  readonly columnOrder?: boolean;
  /** Do not compare column defaults. */
  readonly defaults?: boolean;
  /** Match indexes by content instead of by name, and do not report index name differences. */
  readonly indexNames?: boolean;
  /**
   * Tables to leave out on both sides: exact names, or patterns tested against the name (for
   * example `["migrations"]`, the table TypeORM records its migrations in).
   */
  readonly tables?: readonly (string | RegExp)[];
}

/** Options of {@link diffSchemas} and of the `toMatchSchema` matcher. */
export interface SchemaDiffOptions {
  /** Kinds of difference to leave out of the comparison. */
  readonly ignore?: SchemaDiffIgnore;
}

/**
 * Compares two schema snapshots and returns their differences as readable lines, each naming
 * the table and the object it is about, with a's value first: `table item: index
 * item_name_idx: columns (name) vs (name, kind)`, `table item: missing in b`. An empty array
 * means the schemas match under `options.ignore`.
 *
 * @example
 * diffSchemas(await snapshotSchema(handWritten), await snapshotSchema(migrated), {
 *   ignore: { constraintNames: true, fkDeferrability: true, tables: ["migrations"] },
 * });
 */
export function diffSchemas(
  a: SchemaSnapshot,
  b: SchemaSnapshot,
  options: SchemaDiffOptions = {},
): string[] {
  const ignore = options.ignore ?? {};
  const kept = (table: TableSnapshot) =>
    !(ignore.tables ?? []).some((pattern) =>
      typeof pattern === "string" ? pattern === table.name : pattern.test(table.name),
    );
  const lines: string[] = [];
  const tablesA = byName(a.tables.filter(kept));
  const tablesB = byName(b.tables.filter(kept));
  for (const name of sortedNames(tablesA, tablesB)) {
    const [tableA, tableB] = [tablesA.get(name), tablesB.get(name)];
    const prefix = `table ${name}: `;
    if (!tableA || !tableB) lines.push(`${prefix}missing in ${tableA ? "b" : "a"}`);
    else lines.push(...diffTables(tableA, tableB, ignore).map((line) => prefix + line));
  }
  lines.push(...diffItems(a.enums, b.enums, ENUM, false));
  return lines;
}

function diffTables(a: TableSnapshot, b: TableSnapshot, ignore: SchemaDiffIgnore): string[] {
  const lines: string[] = [];
  const columnsB = byName(b.columns);
  const columns = columnKind(ignore);
  for (const column of a.columns) {
    const other = columnsB.get(column.name);
    if (other) lines.push(...differences(columns, column, other));
    else lines.push(`column ${column.name}: missing in b`);
  }
  const namesA = new Set(a.columns.map((column) => column.name));
  for (const column of b.columns) {
    if (!namesA.has(column.name)) lines.push(`column ${column.name}: missing in a`);
  }
  if (!ignore.columnOrder) {
    const orderA = a.columns.map((column) => column.name).filter((name) => columnsB.has(name));
    const orderB = b.columns.map((column) => column.name).filter((name) => namesA.has(name));
    if (list(orderA) !== list(orderB))
      lines.push(`columns order ${list(orderA)} vs ${list(orderB)}`);
  }
  const names = ignore.constraintNames ?? false;
  const asList = (key: PrimaryKeySnapshot | null) => (key ? [key] : []);
  lines.push(...diffItems(asList(a.primaryKey), asList(b.primaryKey), PRIMARY_KEY, names));
  lines.push(...diffItems(a.uniques, b.uniques, uniqueKind(ignore), names));
  lines.push(...diffItems(a.indexes, b.indexes, INDEX, names || (ignore.indexNames ?? false)));
  lines.push(...diffItems(a.checks, b.checks, CHECK, names));
  lines.push(...diffItems(a.foreignKeys, b.foreignKeys, foreignKeyKind(ignore), names));
  return lines;
}

// How one kind of schema object is titled, compared and paired.
interface ItemKind<T> {
  // "index item_name_idx", "primary key", "check (qty > 0)" for an unnamed check.
  title(item: T): string;
  // The compared properties, rendered as they appear in the diff lines.
  fields(item: T): readonly (readonly [string, string])[];
  // Items left unpaired by name and content pair up when their signatures are equal, so that
  // a change shows as one difference rather than "missing in a" plus "missing in b".
  signature?(item: T): string;
}

type Named = { readonly name: string | null };

function diffItems<T extends Named>(
  a: readonly T[],
  b: readonly T[],
  kind: ItemKind<T>,
  ignoreNames: boolean,
): string[] {
  const restA = [...a];
  const restB = [...b];
  const pairs: [T, T][] = [];
  const content = (item: T) => JSON.stringify(kind.fields(item));
  const rules: ((x: T, y: T) => boolean)[] = [
    (x, y) => x.name !== null && x.name === y.name,
    (x, y) => content(x) === content(y),
    (x, y) => kind.signature !== undefined && kind.signature(x) === kind.signature(y),
  ];
  if (ignoreNames) rules.unshift(rules.splice(1, 1)[0]); // content first, then names
  for (const rule of rules) {
    for (const x of [...restA]) {
      const index = restB.findIndex((y) => rule(x, y));
      if (index < 0) continue;
      pairs.push([x, restB[index]]);
      restA.splice(restA.indexOf(x), 1);
      restB.splice(index, 1);
    }
  }
  const lines: string[] = [];
  for (const [x, y] of pairs) {
    const renamed = x.name !== y.name;
    const title = ignoreNames && renamed ? `${kind.title(x)} (b: ${y.name ?? "unnamed"})` : null;
    const found = differences(kind, x, y, title ?? undefined);
    if (renamed && !ignoreNames) {
      found.unshift(`${kind.title(x)}: name ${x.name ?? "none"} vs ${y.name ?? "none"}`);
    }
    lines.push(...found);
  }
  lines.push(...restA.map((item) => `${kind.title(item)}: missing in b`));
  lines.push(...restB.map((item) => `${kind.title(item)}: missing in a`));
  return lines;
}

function differences<T>(kind: ItemKind<T>, a: T, b: T, title = kind.title(a)): string[] {
  const fieldsB = new Map(kind.fields(b));
  return kind
    .fields(a)
    .filter(([field, value]) => fieldsB.get(field) !== value)
    .map(([field, value]) => `${title}: ${field} ${value} vs ${fieldsB.get(field)}`);
}

const columnKind = (ignore: SchemaDiffIgnore): ItemKind<ColumnSnapshot> => ({
  title: (column) => `column ${column.name}`,
  fields: (column) => [
    ["type", column.type],
    ["nullable", String(column.nullable)],
    ...(ignore.defaults ? [] : [["default", column.default ?? "none"] as const]),
    ["generated", generation(column.generated)],
  ],
});

const PRIMARY_KEY: ItemKind<PrimaryKeySnapshot> = {
  title: () => "primary key",
  fields: (key) => [["columns", list(key.columns)]],
  signature: () => "the primary key",
};

const uniqueKind = (ignore: SchemaDiffIgnore): ItemKind<UniqueSnapshot> => ({
  title: (unique) => `unique ${unique.name ?? list(unique.columns)}`,
  fields: (unique) => [
    ["columns", list(unique.columns)],
    ...(ignore.uniqueDeferrability ? [] : [["deferrable", deferrability(unique)] as const]),
  ],
  signature: (unique) => list([...unique.columns].sort()),
});

const INDEX: ItemKind<IndexSnapshot> = {
  title: (index) => `index ${index.name}`,
  fields: (index) => [
    ["columns", list(index.columns)],
    ["unique", String(index.unique)],
    ["where", index.where ?? "none"],
  ],
  signature: (index) => list([...index.columns].sort()),
};

const CHECK: ItemKind<CheckSnapshot> = {
  title: (check) => `check ${check.name ?? `(${check.expression})`}`,
  fields: (check) => [["expression", check.expression]],
};

const foreignKeyKind = (ignore: SchemaDiffIgnore): ItemKind<ForeignKeySnapshot> => ({
  title: (fk) => `foreign key ${fk.name ?? `${list(fk.columns)} -> ${fk.referencedTable}`}`,
  fields: (fk) => [
    ["columns", list(fk.columns)],
    ["references", `${fk.referencedTable} ${list(fk.referencedColumns)}`],
    ["on delete", fk.onDelete],
    ["on update", fk.onUpdate],
    ...(ignore.fkDeferrability ? [] : [["deferrable", deferrability(fk)] as const]),
  ],
  signature: (fk) => `${list([...fk.columns].sort())} -> ${fk.referencedTable}`,
});

const ENUM: ItemKind<EnumSnapshot> = {
  title: (item) => `enum ${item.name}`,
  fields: (item) => [["labels", list(item.labels)]],
};

function deferrability(item: Deferrability): string {
  if (!item.deferrable) return "NOT DEFERRABLE";
  return `DEFERRABLE INITIALLY ${item.initiallyDeferred ? "DEFERRED" : "IMMEDIATE"}`;
}

function generation(generated: ColumnGeneration | null): string {
  if (!generated) return "none";
  switch (generated.kind) {
    case "identity":
      return `identity ${generated.always ? "always" : "by default"}`;
    case "computed":
      return `always as (${generated.expression}) ${generated.stored ? "stored" : "virtual"}`;
    default:
      return generated.kind;
  }
}

function list(items: readonly string[]): string {
  return `(${items.join(", ")})`;
}

function byName<T extends { readonly name: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((item) => [item.name, item]));
}

function sortedNames(...maps: Map<string, unknown>[]): string[] {
  const names = [...new Set(maps.flatMap((map) => [...map.keys()]))];
  return names.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}
