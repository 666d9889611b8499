import { DataSource, type DataSourceOptions } from "typeorm";
import { DataSourceInitError } from "../errors";
import { destroyDataSource, dialectFor } from "../dialects";

/** A fresh database made by {@link emptyDatabase}. */
export interface EmptyDatabase {
  /** An initialized DataSource on the new database, with no entities, migrations or subscribers. */
  readonly dataSource: DataSource;
  /** Options that connect to the new database (to open a second DataSource on it). */
  readonly options: DataSourceOptions;
  /**
   * Destroys the DataSource and deletes the database (the PostgreSQL database, or the SQLite
   * file and its temporary folder). Calling it again does nothing more; after a failure, a
   * second call tries again.
   */
  drop(): Promise<void>;
}

/**
 * Creates a truly empty database: no tables and no migrations table, unlike a test database
 * built from entities or migrations. Use it to run hand-written SQL or a migration set from
 * nothing, or as the starting point of {@link migrationTester}.
 *
 * - PostgreSQL: a uniquely named database (`typeorm_router_scratch_<random>`) on the server
 *   `options` points at (its `database` or the path of its `url` is replaced; the login needs
 *   `CREATEDB`). If `options.schema` is set, that schema is created in it, empty.
 * - SQLite (better-sqlite3): a new file in a new temporary folder; `options.database` is ignored,
 *   so even `":memory:"` gives a file that a second DataSource can reopen.
 *
 * `entities`, `migrations`, `subscribers`, `synchronize`, `migrationsRun` and `dropSchema` in
 * `options` are ignored, so nothing is created on initialize. Call `drop()` when done (in
 * `afterEach`/`afterAll`); nothing else removes the database.
 *
 * @example
 * const { dataSource, drop } = await emptyDatabase({ type: "postgres", url: PG_URL });
 * try {
 *   await dataSource.query(handWrittenSql);
 * } finally {
 *   await drop();
 * }
 *
 * @throws ConfigurationError when the driver is neither postgres nor better-sqlite3.
 * @throws DataSourceInitError when the database cannot be created or opened (nothing is left
 *   behind; the driver error is its `cause`).
 */
export async function emptyDatabase(options: DataSourceOptions): Promise<EmptyDatabase> {
  const dialect = dialectFor(options);
  const where = `an empty ${options.type} test database`;
  const scratch = await dialect.createScratchDatabase(options).catch((cause: unknown) => {
    throw DataSourceInitError.failed(where, cause);
  });
  const dataSource = new DataSource({
    ...scratch.options,
    entities: [],
    migrations: [],
    subscribers: [],
    synchronize: false,
    migrationsRun: false,
    dropSchema: false,
  } as DataSourceOptions);
  try {
    await dataSource.initialize();
  } catch (cause) {
    await scratch.drop();
    throw DataSourceInitError.failed(where, cause);
  }
  let dropped: Promise<void> | undefined;
  const drop = () =>
    (dropped ??= (async () => {
      try {
        if (dataSource.isInitialized) await destroyDataSource(dataSource);
        await scratch.drop();
      } catch (error) {
        dropped = undefined; // let a later call try again
        throw error;
      }
    })());
  return Object.freeze({ dataSource, options: scratch.options, drop });
}
