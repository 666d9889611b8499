import type { DataSource, EntityManager } from "typeorm";
import { tableHelper, type TableHelper } from "./table-helper";

/**
 * The database of a {@link MigrationTester} at one point of its history, as returned by
 * `before()` and `after()`. Historical schemas have no entity classes: read and write through
 * `table(name)` or `query()`.
 */
export interface MigrationState {
  /** The tester's DataSource (no entities). It stays open until `reset()`. */
  readonly dataSource: DataSource;
  /** `dataSource.manager`, for query builders on table names. */
  readonly manager: EntityManager;
  /**
   * The migrations recorded as applied in the migrations table when this state was reached,
   * oldest first (read back from the database, not assumed).
   */
  readonly applied: readonly string[];
  /**
   * Runs raw SQL and returns its rows. Placeholders are the driver's own: `$1, $2` on
   * PostgreSQL, `?` on SQLite.
   */
  query<T = Record<string, unknown>>(sql: string, parameters?: readonly unknown[]): Promise<T[]>;
  /** Inserts, selects and counts rows of the table `name`. */
  table(name: string): TableHelper;
}

/** Builds the {@link MigrationState} of `dataSource` with `applied` recorded. */
export function migrationState(dataSource: DataSource, applied: readonly string[]): MigrationState {
  return Object.freeze({
    dataSource,
    manager: dataSource.manager,
    applied: Object.freeze([...applied]),
    query: <T>(sql: string, parameters?: readonly unknown[]): Promise<T[]> =>
      dataSource.query(sql, parameters ? [...parameters] : undefined),
    table: (name: string) => tableHelper(dataSource.manager, name),
  });
}
