import type { EntityManager, SelectQueryBuilder } from "typeorm";

/** One row as the table helper reads and writes it: column name → value. */
export type TableRow = Record<string, unknown>;

/** Options of {@link TableHelper.select}. */
export interface SelectOptions {
  /** Columns to sort by, ascending, in order (rows come in no guaranteed order otherwise). */
  readonly orderBy?: string | readonly string[];
}

/**
 * Reads and writes one table by its name, for schemas that have no entity class (a historical
 * schema in a migration test). Values are sent as query parameters and column and table names
 * are quoted by the driver, so any name works. Values come back as the driver returns them:
 * SQLite returns booleans as `1`/`0`, PostgreSQL as `true`/`false`.
 */
export interface TableHelper {
  /** The table name, as given. */
  readonly name: string;
  /**
   * Inserts one row or many, in one transaction and in the given order. Columns left out get
   * their default. Booleans are bound as `1`/`0` on SQLite.
   */
  insert(rowOrRows: TableRow | readonly TableRow[]): Promise<void>;
  /**
   * The rows whose columns equal every value in `where` (`null` matches `IS NULL`); every row
   * when `where` is empty or left out.
   */
  select(where?: TableRow, options?: SelectOptions): Promise<TableRow[]>;
  /** Every row; the same as `select({}, options)`. */
  rows(options?: SelectOptions): Promise<TableRow[]>;
  /** How many rows match `where` (every row when it is left out). */
  count(where?: TableRow): Promise<number>;
}

// Rows per INSERT statement, so that rows × columns stays far below the bound-parameter limits
// of both drivers (32766 in SQLite, 65535 in PostgreSQL).
const ROWS_PER_STATEMENT = 500;

/**
 * The {@link TableHelper} of table `name`, working through `manager` (of any DataSource; the
 * table is qualified with the DataSource's `schema` option when it has one).
 */
export function tableHelper(manager: EntityManager, name: string): TableHelper {
  const driver = manager.connection.driver;
  const path = driver.buildTableName(name, (driver as { schema?: string }).schema);
  const where = (query: SelectQueryBuilder<TableRow>, values: TableRow) => {
    Object.entries(values).forEach(([column, value], index) => {
      const quoted = driver.escape(column);
      if (value === null) query.andWhere(`${quoted} IS NULL`);
      else query.andWhere(`${quoted} = :where${index}`, { [`where${index}`]: value });
    });
    return query;
  };
  const select = async (filter: TableRow = {}, options: SelectOptions = {}) => {
    const query = where(manager.createQueryBuilder().select("*").from(path, "row"), filter);
    for (const column of [options.orderBy ?? []].flat()) {
      query.addOrderBy(driver.escape(column), "ASC");
    }
    return query.getRawMany<TableRow>();
  };
  return Object.freeze({
    name,
    async insert(rowOrRows: TableRow | readonly TableRow[]): Promise<void> {
      const rows: readonly TableRow[] = Array.isArray(rowOrRows) ? rowOrRows : [rowOrRows];
      await manager.transaction(async (transactional) => {
        for (const batch of batches(rows)) {
          await transactional
            .createQueryBuilder()
            .insert()
            .into(path, Object.keys(batch[0]))
            .values(batch)
            .execute();
        }
      });
    },
    select,
    rows: (options?: SelectOptions) => select({}, options),
    async count(filter: TableRow = {}): Promise<number> {
      const query = where(manager.createQueryBuilder().from(path, "row"), filter);
      const result = await query.select("COUNT(*)", "count").getRawOne<{ count: unknown }>();
      return Number(result?.count ?? 0);
    },
  });
}

// Consecutive rows with the same columns share a statement: without entity metadata TypeORM
// takes one column list per statement, so rows with other columns need a statement of their own.
function batches(rows: readonly TableRow[]): TableRow[][] {
  const result: TableRow[][] = [];
  let signature: string | undefined;
  for (const row of rows) {
    const columns = JSON.stringify(Object.keys(row));
    const last = result.at(-1);
    if (last && columns === signature && last.length < ROWS_PER_STATEMENT) last.push(row);
    else result.push([row]);
    signature = columns;
  }
  return result;
}
